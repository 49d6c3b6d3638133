import { randomBytes } from 'node:crypto';
import { BOT_USER_ID, CHANNELS, GROUPS, PEOPLE, TEAM_ID } from './example.js';

/**
 * The sandbox's Slack workspace, in memory: what Slack would keep (messages, ephemeral messages, modals,
 * App Home, files) and the answers its Web API gives keyturn. Answers follow Slack's shapes for the methods
 * keyturn calls; anything else is answered `{ ok: true }`.
 */
export interface Message {
  ts: string;
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
  metadata?: unknown;
  files?: { id: string; name: string; title: string }[];
  edited?: boolean;
  /** An ephemeral message: only this person sees it. */
  ephemeralFor?: string;
}

export interface OpenView {
  id: string;
  hash: string;
  view: Record<string, any>;
  /** Field errors from a `response_action: 'errors'` answer, by block id. */
  errors?: Record<string, string>;
}

export interface StoredFile {
  id: string;
  filename: string;
  title: string;
  bytes?: Buffer;
}

/** What a response_url (handed out with a command or click) may act on. */
interface ResponseTarget {
  user: string;
  channel: string;
  messageTs?: string;
}

type Answer = Record<string, unknown>;

export function createWorkspace() {
  let seq = 0;
  let version = 0;
  const messages = new Map<string, Message[]>();
  const dmOwners = new Map<string, string>();
  const modals = new Map<string, OpenView[]>();
  const homes = new Map<string, OpenView>();
  const triggers = new Map<string, string>();
  const responseUrls = new Map<string, ResponseTarget>();
  const files = new Map<string, StoredFile>();
  let origin = '';

  const changed = () => void version++;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const newHash = () => randomBytes(6).toString('hex');
  const list = (channel: string) => messages.get(channel) ?? messages.set(channel, []).get(channel)!;

  const dmOf = (user: string) => {
    const id = `D${user.slice(1)}`;
    dmOwners.set(id, user);
    return id;
  };
  /** Slack takes a user id as a channel: the DM with that person. */
  const channelOf = (channel: string) => (/^[UW]/.test(channel) ? dmOf(channel) : channel);
  const knownChannel = (channel: string) => channel in CHANNELS || dmOwners.has(channel);

  function findMessage(channel: string, ts: string): Message | undefined {
    return messages.get(channel)?.find((m) => m.ts === ts);
  }

  function findView(id: string): { view: OpenView; owner: string; place: 'modal' | 'home' } | undefined {
    for (const [owner, stack] of modals) {
      const view = stack.find((v) => v.id === id);
      if (view) return { view, owner, place: 'modal' };
    }
    for (const [owner, view] of homes) if (view.id === id) return { view, owner, place: 'home' };
    return undefined;
  }

  const opened = (view: Record<string, any>, id = `V${++seq}`): OpenView => ({ id, hash: newHash(), view });
  const viewAnswer = (v: OpenView) => ({ ok: true, view: { ...v.view, id: v.id, hash: v.hash, team_id: TEAM_ID, state: { values: {} } } });

  function post(args: Record<string, any>): Answer {
    const channel = channelOf(String(args.channel ?? ''));
    if (!knownChannel(channel)) return { ok: false, error: 'channel_not_found' };
    if (args.thread_ts && !findMessage(channel, String(args.thread_ts))) return { ok: false, error: 'thread_not_found' };
    const message: Message = { ts: nextTs(), channel, user: BOT_USER_ID, text: String(args.text ?? ''), blocks: args.blocks, metadata: args.metadata };
    if (args.thread_ts) message.threadTs = String(args.thread_ts);
    list(channel).push(message);
    changed();
    return { ok: true, channel, ts: message.ts, message: { text: message.text, ts: message.ts } };
  }

  function ephemeral(channel: string, user: string, text: string, blocks?: unknown[]): string {
    const message: Message = { ts: nextTs(), channel, user: BOT_USER_ID, text, blocks, ephemeralFor: user };
    list(channel).push(message);
    changed();
    return message.ts;
  }

  /** The Web API: one method, its arguments as Slack receives them. */
  function answer(method: string, args: Record<string, any>): Answer {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: `${origin}/`, team: 'keyturn sandbox', user: 'keyturn', team_id: TEAM_ID, user_id: BOT_USER_ID, bot_id: 'B0KEYTURN' };
      case 'chat.postMessage':
        return post(args);
      case 'chat.update': {
        const channel = channelOf(String(args.channel ?? ''));
        const message = findMessage(channel, String(args.ts));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(args.text ?? message.text);
        if (args.blocks !== undefined) message.blocks = args.blocks;
        message.edited = true;
        changed();
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral': {
        const channel = channelOf(String(args.channel ?? ''));
        if (!knownChannel(channel)) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: ephemeral(channel, String(args.user), String(args.text ?? ''), args.blocks) };
      }
      case 'conversations.open':
        return { ok: true, channel: { id: dmOf(String(args.users ?? args.user ?? '').split(',')[0]) } };
      case 'conversations.history': {
        const channel = channelOf(String(args.channel ?? ''));
        const shown = (messages.get(channel) ?? []).filter((m) => !m.ephemeralFor && !m.threadTs);
        return { ok: true, messages: shown.map((m) => ({ type: 'message', ts: m.ts, text: m.text, user: m.user, metadata: m.metadata })).reverse(), has_more: false };
      }
      case 'views.open':
      case 'views.push': {
        const user = triggers.get(String(args.trigger_id));
        if (!user) return { ok: false, error: 'invalid_trigger_id' };
        triggers.delete(String(args.trigger_id));
        const view = opened(args.view);
        modals.set(user, method === 'views.open' ? [view] : [...(modals.get(user) ?? []), view]);
        changed();
        return viewAnswer(view);
      }
      case 'views.update': {
        const found = findView(String(args.view_id ?? ''));
        if (!found) return { ok: false, error: 'not_found' };
        if (args.hash && args.hash !== found.view.hash) return { ok: false, error: 'hash_conflict' };
        found.view.view = args.view;
        found.view.hash = newHash();
        delete found.view.errors;
        changed();
        return viewAnswer(found.view);
      }
      case 'views.publish': {
        const user = String(args.user_id);
        const previous = homes.get(user);
        if (args.hash && previous && args.hash !== previous.hash) return { ok: false, error: 'hash_conflict' };
        const view = opened(args.view, previous?.id);
        homes.set(user, view);
        changed();
        return viewAnswer(view);
      }
      case 'usergroups.users.list': {
        const group = GROUPS[String(args.usergroup)];
        return group ? { ok: true, users: group.users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'usergroups.list':
        return { ok: true, usergroups: Object.entries(GROUPS).map(([id, g]) => ({ id, handle: g.handle, name: g.handle, users: g.users })) };
      case 'users.info': {
        const person = PEOPLE.find((p) => p.id === args.user);
        if (!person) return { ok: false, error: 'user_not_found' };
        return { ok: true, user: { id: person.id, team_id: TEAM_ID, name: person.name.toLowerCase(), real_name: person.name, deleted: false, is_bot: false, profile: { real_name: person.name, display_name: person.name } } };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${++seq}`;
        files.set(id, { id, filename: String(args.filename ?? 'file'), title: String(args.filename ?? 'file') });
        return { ok: true, upload_url: `${origin}/api/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (Array.isArray(args.files) ? args.files : []) as { id: string; title?: string }[];
        const shared = list.map((f) => files.get(f.id)).filter((f): f is StoredFile => Boolean(f));
        if (shared.length !== list.length) return { ok: false, error: 'file_not_found' };
        for (const f of list) if (f.title) files.get(f.id)!.title = f.title;
        if (args.channel_id) {
          const posted = post({ channel: args.channel_id, thread_ts: args.thread_ts, text: String(args.initial_comment ?? '') });
          if (!posted.ok) return posted;
          const message = findMessage(channelOf(String(args.channel_id)), String(posted.ts))!;
          message.files = shared.map((f) => ({ id: f.id, name: f.filename, title: f.title }));
        }
        return { ok: true, files: shared.map((f) => ({ id: f.id, name: f.filename, title: f.title })) };
      }
      default:
        return { ok: true };
    }
  }

  return {
    answer,
    setOrigin(url: string) {
      origin = url;
    },
    get version() {
      return version;
    },

    /** The bytes of an upload, at the URL files.getUploadURLExternal gave; false when no such upload is expected. */
    receiveUpload(id: string, bytes: Buffer): boolean {
      const file = files.get(id);
      if (!file || file.bytes) return false;
      file.bytes = bytes;
      changed();
      return true;
    },
    file: (id: string) => files.get(id),

    /** A trigger id for an interaction by `user`: views.open answers only to one of these, once. */
    trigger(user: string): string {
      const id = `${++seq}.${Date.now()}.${randomBytes(8).toString('hex')}`;
      triggers.set(id, user);
      return id;
    },

    /** A response_url for an interaction by `user` in `channel` (on a message, for replace_original). */
    responseUrl(target: ResponseTarget): string {
      const id = randomBytes(12).toString('hex');
      responseUrls.set(id, target);
      return `${origin}/api/respond/${id}`;
    },

    /** A post to a response_url, as Slack reads it: ephemeral by default, or in the channel, or replacing the message. */
    respond(id: string, body: Record<string, any>): boolean {
      const target = responseUrls.get(id);
      if (!target) return false;
      const original = target.messageTs ? findMessage(target.channel, target.messageTs) : undefined;
      if (body.delete_original && original) {
        list(target.channel).splice(list(target.channel).indexOf(original), 1);
        changed();
      } else if (body.replace_original === true && original) {
        original.text = String(body.text ?? '');
        original.blocks = body.blocks;
        original.edited = true;
        changed();
      } else if (body.response_type === 'in_channel') {
        post({ channel: target.channel, text: body.text, blocks: body.blocks, thread_ts: body.thread_ts });
      } else {
        ephemeral(target.channel, target.user, String(body.text ?? ''), body.blocks);
      }
      return true;
    },

    /** A slash command's answer (the body of keyturn's ack), shown where it was typed. */
    commandAnswered(user: string, channel: string, body: Record<string, any>) {
      if (body.response_type === 'in_channel') post({ channel, text: body.text, blocks: body.blocks });
      else ephemeral(channel, user, String(body.text ?? ''), body.blocks);
    },

    /** The answer to a view submission: close, show errors, update, push or clear, as Slack does. */
    submissionAnswered(user: string, viewId: string, body: Record<string, any> | undefined) {
      const stack = modals.get(user) ?? [];
      const at = stack.findIndex((v) => v.id === viewId);
      if (at < 0) return;
      const action = body?.response_action;
      if (action === 'errors') stack[at].errors = body!.errors ?? {};
      else if (action === 'update') stack[at] = opened(body!.view, viewId);
      else if (action === 'push') stack.push(opened(body!.view));
      else if (action === 'clear') stack.length = 0;
      else stack.splice(at);
      changed();
    },

    closeView(user: string, viewId: string) {
      const stack = modals.get(user) ?? [];
      const at = stack.findIndex((v) => v.id === viewId);
      if (at >= 0) stack.splice(at);
      changed();
    },

    findMessage,
    findView,
    dmOf,
    /** Everything `user` sees: channels, their own DM, their ephemeral messages, their modal and App Home. */
    seenBy(user: string) {
      const visible = (m: Message) => !m.ephemeralFor || m.ephemeralFor === user;
      const ownDm = dmOf(user);
      const conversations = [
        ...Object.entries(CHANNELS).map(([id, name]) => ({ id, name, kind: 'channel' as const })),
        { id: ownDm, name: 'keyturn', kind: 'dm' as const },
      ].map((c) => ({ ...c, messages: (messages.get(c.id) ?? []).filter(visible) }));
      const stack = modals.get(user) ?? [];
      return { conversations, modal: stack.at(-1), modalDepth: stack.length, home: homes.get(user) };
    },
  };
}
export type Workspace = ReturnType<typeof createWorkspace>;
