import { CHANNELS, PEOPLE } from './example.js';
import type { SlackSender } from './slack-events.js';
import type { OpenView, Workspace } from './workspace.js';

/**
 * What a person does on the page, turned into what Slack would send keyturn. The page names things by where
 * they are (a message's ts and a block's index); the payload is built here from what keyturn itself sent, so a
 * button's value is the one in keyturn's Block Kit, not one the page made up.
 */
export type Act =
  | { kind: 'command'; as: string; channel: string; text: string }
  /** A button on a message, or (with `value`) an option chosen in a message's select. */
  | { kind: 'click'; as: string; channel: string; ts: string; block: number; element?: number; value?: string }
  | { kind: 'viewClick'; as: string; viewId: string; block: number; element?: number; values?: PageValues }
  | { kind: 'select'; as: string; viewId: string; block: number; element?: number; value: string; values?: PageValues }
  | { kind: 'submit'; as: string; viewId: string; values: PageValues }
  | { kind: 'close'; as: string; viewId: string }
  | { kind: 'home'; as: string };

/** Inputs as the page read them, by block index: text, a chosen option's value, or the ticked options' values. */
export type PageValues = Record<string, string | string[] | null>;

export interface ActResult {
  ok: boolean;
  /** What the person is told when the act did not reach keyturn or keyturn refused it. */
  error?: string;
}

const blockId = (block: Record<string, any>, index: number) => String(block.block_id ?? `b${index}`);

/** The interactive element at (block, element): an actions block's element or a section's accessory. */
function elementAt(blocks: unknown[] | undefined, block: number, element?: number): { blockId: string; element: Record<string, any> } | undefined {
  const b = (blocks ?? [])[block] as Record<string, any> | undefined;
  if (!b) return undefined;
  const el = b.type === 'actions' ? b.elements?.[element ?? 0] : b.type === 'input' ? b.element : b.accessory;
  return el ? { blockId: blockId(b, block), element: el } : undefined;
}

/** The action Slack reports for an option chosen in a select. */
function selectAction(found: { blockId: string; element: Record<string, any> }, value: string | undefined) {
  return { type: 'static_select', action_id: found.element.action_id, block_id: found.blockId, selected_option: allOptions(found.element).find((o) => o.value === value) ?? null, action_ts: `${Date.now() / 1000}` };
}

/** The action Slack reports for a click on a button. */
function buttonAction(found: { blockId: string; element: Record<string, any> }) {
  const e = found.element;
  return { type: 'button', action_id: e.action_id, block_id: found.blockId, text: e.text, ...(e.value !== undefined ? { value: e.value } : {}), ...(e.style ? { style: e.style } : {}), action_ts: `${Date.now() / 1000}` };
}

const allOptions = (element: Record<string, any>): Record<string, any>[] => [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g: any) => g.options ?? [])];

/** A view's state.values as Slack sends them, from the page's inputs (by block index) and the view's own elements. */
export function stateValues(view: OpenView, values: PageValues = {}): { values: Record<string, Record<string, unknown>>; missing: Record<string, string> } {
  const state: Record<string, Record<string, unknown>> = {};
  const missing: Record<string, string> = {};
  (view.view.blocks ?? []).forEach((block: Record<string, any>, i: number) => {
    if (block.type !== 'input' || !block.element?.action_id) return;
    const element = block.element;
    const given = values[String(i)];
    let value: Record<string, unknown>;
    let empty: boolean;
    if (element.type === 'static_select') {
      const option = allOptions(element).find((o) => o.value === given) ?? null;
      value = { type: 'static_select', selected_option: option };
      empty = option === null;
    } else if (element.type === 'checkboxes') {
      const ticked = Array.isArray(given) ? given : [];
      const options = allOptions(element).filter((o) => ticked.includes(o.value));
      value = { type: 'checkboxes', selected_options: options };
      empty = options.length === 0;
    } else {
      const text = typeof given === 'string' ? given : null;
      value = { type: element.type, value: text === '' ? null : text };
      empty = !text;
    }
    state[blockId(block, i)] = { [element.action_id]: value };
    if (empty && !block.optional) missing[blockId(block, i)] = 'Please complete this required field.';
  });
  return { values: state, missing };
}

/** The view as Slack puts it in a payload: the view keyturn drew, with its id, hash and the state. */
function viewPayload(view: OpenView, values: Record<string, Record<string, unknown>>) {
  return { ...view.view, id: view.id, hash: view.hash, state: { values }, private_metadata: view.view.private_metadata ?? '', callback_id: view.view.callback_id ?? '', root_view_id: view.id, app_id: 'A0SANDBOX' };
}

const channelName = (id: string) => CHANNELS[id] ?? 'directmessage';

export function createActs(deps: { workspace: Workspace; slack: SlackSender }) {
  const { workspace, slack } = deps;
  const refused = (status: number, text: string): ActResult => ({ ok: false, error: `keyturn answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}` });

  async function perform(act: Act): Promise<ActResult> {
    if (!PEOPLE.some((p) => p.id === act.as)) return { ok: false, error: `nobody named ${act.as} in the example workspace` };
    switch (act.kind) {
      case 'command': {
        const typed = act.text.trim();
        const [command] = typed.split(/\s+/);
        if (command !== '/secret') {
          workspace.commandAnswered(act.as, act.channel, { text: `${command || typed} is not a valid command. This sandbox's keyturn knows /secret (try /secret help).` });
          return { ok: true };
        }
        const res = await slack.command({
          user: act.as,
          channel: act.channel,
          channelName: channelName(act.channel),
          command,
          text: typed.slice(command.length).trim(),
          triggerId: workspace.trigger(act.as),
          responseUrl: workspace.responseUrl({ user: act.as, channel: act.channel }),
        });
        if (res.status !== 200) return refused(res.status, res.text);
        if (res.body && (res.body.text || res.body.blocks)) workspace.commandAnswered(act.as, act.channel, res.body);
        else if (res.text && !res.body) workspace.commandAnswered(act.as, act.channel, { text: res.text });
        return { ok: true };
      }
      case 'click': {
        const message = workspace.findMessage(act.channel, act.ts);
        const found = elementAt(message?.blocks, act.block, act.element);
        if (!message || !found) return { ok: false, error: 'that button is no longer there' };
        const res = await slack.interaction(
          {
            type: 'block_actions',
            trigger_id: workspace.trigger(act.as),
            response_url: workspace.responseUrl({ user: act.as, channel: act.channel, messageTs: message.ephemeralFor ? undefined : message.ts }),
            container: { type: 'message', message_ts: message.ts, channel_id: act.channel, is_ephemeral: Boolean(message.ephemeralFor) },
            channel: { id: act.channel, name: channelName(act.channel) },
            ...(message.ephemeralFor ? {} : { message: { type: 'message', user: message.user, ts: message.ts, text: message.text, blocks: message.blocks } }),
            state: { values: {} },
            actions: [act.value !== undefined ? selectAction(found, act.value) : buttonAction(found)],
          },
          act.as,
        );
        return res.status === 200 ? { ok: true } : refused(res.status, res.text);
      }
      case 'viewClick':
      case 'select': {
        const where = workspace.findView(act.viewId);
        if (!where || where.owner !== act.as) return { ok: false, error: 'that view is no longer open' };
        const found = elementAt(where.view.view.blocks, act.block, act.element);
        if (!found) return { ok: false, error: 'that element is no longer there' };
        const { values } = stateValues(where.view, act.values);
        const action = act.kind === 'select' ? selectAction(found, act.value) : buttonAction(found);
        const res = await slack.interaction(
          {
            type: 'block_actions',
            trigger_id: workspace.trigger(act.as),
            container: { type: 'view', view_id: where.view.id },
            view: viewPayload(where.view, values),
            actions: [action],
          },
          act.as,
        );
        return res.status === 200 ? { ok: true } : refused(res.status, res.text);
      }
      case 'submit': {
        const where = workspace.findView(act.viewId);
        if (!where || where.owner !== act.as || where.place !== 'modal') return { ok: false, error: 'that modal is no longer open' };
        const { values, missing } = stateValues(where.view, act.values);
        // Slack itself refuses to submit a required input left empty; keyturn never hears of it.
        if (Object.keys(missing).length > 0) {
          workspace.submissionAnswered(act.as, act.viewId, { response_action: 'errors', errors: missing });
          return { ok: true };
        }
        const res = await slack.interaction({ type: 'view_submission', trigger_id: workspace.trigger(act.as), view: viewPayload(where.view, values), response_urls: [] }, act.as);
        if (res.status !== 200) return refused(res.status, res.text);
        workspace.submissionAnswered(act.as, act.viewId, res.body);
        return { ok: true };
      }
      case 'close': {
        const where = workspace.findView(act.viewId);
        if (!where || where.owner !== act.as) return { ok: true };
        if (where.view.view.notify_on_close) {
          await slack.interaction({ type: 'view_closed', view: viewPayload(where.view, stateValues(where.view).values), is_cleared: false }, act.as);
        }
        workspace.closeView(act.as, act.viewId);
        return { ok: true };
      }
      case 'home': {
        const res = await slack.event({ type: 'app_home_opened', user: act.as, channel: workspace.dmOf(act.as), tab: 'home' });
        return res.status === 200 ? { ok: true } : refused(res.status, res.text);
      }
    }
  }
  return { perform };
}
