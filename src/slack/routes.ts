import type {
  App,
  Middleware,
  SlackAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewAction,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';

/** Where keyturn's listeners are registered: by action id, view callback id, command name or event type. */
export interface SlackRoutes {
  /** A pattern is for a family of ids (buttons in one message must have different ids). */
  action<B extends SlackAction = SlackAction>(actionId: string | RegExp, listener: Middleware<SlackActionMiddlewareArgs<B>>): void;
  view<V extends SlackViewAction = SlackViewAction>(callbackId: string, listener: Middleware<SlackViewMiddlewareArgs<V>>): void;
  command(name: string, listener: Middleware<SlackCommandMiddlewareArgs>): void;
  event<E extends string>(type: E, listener: Middleware<SlackEventMiddlewareArgs<E>>): void;
}

// Bolt runs every listener's matchers on every request: with one Bolt listener per kind and a table lookup
// inside, a click costs a third of the CPU and allocation it did with a listener per button (bench:clicks).
type AnyListener = Middleware<any>;

function table(kind: string) {
  const byId = new Map<string, AnyListener>();
  const byPattern: [RegExp, AnyListener][] = [];
  return {
    get size() {
      return byId.size + byPattern.length;
    },
    add(id: string | RegExp, listener: AnyListener) {
      if (id instanceof RegExp) return void byPattern.push([id, listener]);
      if (byId.has(id)) throw new Error(`two Slack ${kind} listeners for ${id}`);
      byId.set(id, listener);
    },
    find(id: string): AnyListener | undefined {
      return byId.get(id) ?? byPattern.find(([pattern]) => pattern.test(id))?.[1];
    },
  };
}

/**
 * Registers keyturn's listeners on `app` through `register`: one Bolt listener for every block action and one
 * for every view submission, each finding its listener by id. An id nobody registered is left unacknowledged
 * here (the receiver acknowledges it and logs it), as Bolt would with no matching listener.
 */
export function routeSlack(app: App, register: (routes: SlackRoutes) => void): void {
  const actions = table('action');
  const views = table('view');
  register({
    action: (id, listener) => actions.add(id, listener as AnyListener),
    view: (id, listener) => views.add(id, listener as AnyListener),
    command: (name, listener) => app.command(name, listener),
    event: (type, listener) => app.event(type, listener),
  });
  if (actions.size > 0) {
    app.action({ type: 'block_actions' }, async (args) => {
      const listener = actions.find((args.action as { action_id?: string }).action_id ?? '');
      if (listener) await listener(args);
    });
  }
  if (views.size > 0) {
    app.view({ type: 'view_submission' }, async (args) => {
      const listener = views.find(args.view.callback_id);
      if (listener) await listener(args);
    });
  }
}
