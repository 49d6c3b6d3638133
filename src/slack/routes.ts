import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
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

type AnyListener = (args: AnyMiddlewareArgs & AllMiddlewareArgs) => Promise<void>;

function table(kind: string) {
  const byId = new Map<string, AnyListener>();
  const byPattern: [RegExp, AnyListener][] = [];
  return {
    add(id: string | RegExp, listener: AnyListener) {
      if (id instanceof RegExp) return void byPattern.push([id, listener]);
      if (byId.has(id)) throw new Error(`two Slack ${kind} listeners for ${id}`);
      byId.set(id, listener);
    },
    find(id: string | undefined): AnyListener | undefined {
      if (id === undefined) return undefined;
      return byId.get(id) ?? byPattern.find(([pattern]) => pattern.test(id))?.[1];
    },
  };
}

/**
 * Registers keyturn's listeners on `app` through `register`, and routes every request to its listener by a
 * table lookup in one Bolt middleware. Bolt runs each registered listener's matchers on every request: with a
 * listener per button and modal, that was most of the CPU a click cost in Bolt (bench:clicks). A request no
 * listener is registered for is left unacknowledged here (the receiver acknowledges it and logs it), as Bolt
 * leaves one no listener matches.
 */
export function routeSlack(app: App, register: (routes: SlackRoutes) => void): void {
  const actions = table('action');
  const views = table('view');
  const commands = table('command');
  const events = table('event');
  register({
    action: (id, listener) => actions.add(id, listener as AnyListener),
    view: (id, listener) => views.add(id, listener as AnyListener),
    command: (name, listener) => commands.add(name, listener as AnyListener),
    event: (type, listener) => events.add(type, listener as AnyListener),
  });
  app.use(async (args) => {
    const { body } = args as { body: Record<string, any> };
    let listener: AnyListener | undefined;
    if (body.type === 'block_actions') listener = actions.find(body.actions?.[0]?.action_id);
    else if (body.type === 'view_submission') listener = views.find(body.view?.callback_id);
    else if (typeof body.command === 'string') listener = commands.find(body.command);
    else if (body.type === 'event_callback') listener = events.find(body.event?.type);
    if (listener) await listener(args);
  });
}
