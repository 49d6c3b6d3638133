import type { WebClient } from '@slack/web-api';
import type { OutboxPayload } from '../../db/schema/index.js';
import { isUserId } from '../../domain/vocabulary.js';

/** How a failed delivery is retried: after Slack's Retry-After, with backoff, or never. */
export type DeliveryFailure =
  | { kind: 'rate_limited'; retryAfterMs: number; message: string }
  | { kind: 'transient'; message: string }
  | { kind: 'permanent'; message: string };

// Slack errors that no retry will fix.
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'user_not_found',
  'user_disabled',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'message_not_found',
  'cant_update_message',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
]);

export function classify(err: unknown): DeliveryFailure {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
  if (e.code === 'slack_webapi_rate_limited_error') {
    return { kind: 'rate_limited', retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000, message: 'rate limited by Slack' };
  }
  const slackError = e.data?.error;
  if (slackError) return { kind: PERMANENT.has(slackError) ? 'permanent' : 'transient', message: `Slack said ${slackError}` };
  return { kind: 'transient', message: (e.message ?? String(err)).slice(0, 200) };
}

const METADATA_TYPE = 'keyturn_message';

/** The Web API calls the outbox makes, one per row kind. */
export function createSlackDelivery(client: WebClient) {
  const dmChannels = new Map<string, string>();
  /**
   * Messages posted whose file has not reached Slack yet, by key → ts. The retry of such a row must not
   * settle for "already posted": it uploads the file into the thread of the message it posted.
   */
  const filesOwed = new Map<string, string>();

  async function channelFor(target: string): Promise<string> {
    if (!isUserId(target)) return target;
    let channel = dmChannels.get(target);
    if (!channel) {
      const res = await client.conversations.open({ users: target });
      channel = res.channel!.id!;
      dmChannels.set(target, channel);
    }
    return channel;
  }

  return {
    channelFor,

    /**
     * After an attempt whose outcome is unknown (the worker died or timed out mid-call), looks for
     * the message in the channel by the key it was posted with, so it is not posted twice.
     */
    async findPosted(channel: string, key: string, since: Date): Promise<string | undefined> {
      if (filesOwed.has(key)) return undefined;
      const res = await client.conversations.history({
        channel,
        oldest: String(Math.floor(since.getTime() / 1000) - 60),
        limit: 200,
        include_all_metadata: true,
      });
      const hit = res.messages?.find(
        (m) => (m as { metadata?: { event_type?: string; event_payload?: { key?: string } } }).metadata?.event_type === METADATA_TYPE &&
          (m as { metadata?: { event_payload?: { key?: string } } }).metadata?.event_payload?.key === key,
      );
      return hit?.ts;
    },

    async post(channel: string, key: string, payload: OutboxPayload, threadTs?: string): Promise<string> {
      let ts = filesOwed.get(key);
      if (!ts) {
        const res = await client.chat.postMessage({
          channel,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          text: payload.text,
          blocks: payload.blocks as never,
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: METADATA_TYPE, event_payload: { key } },
        });
        ts = res.ts!;
      }
      if (payload.file) {
        filesOwed.set(key, ts);
        await client.filesUploadV2({
          channel_id: channel,
          thread_ts: ts,
          filename: payload.file.filename,
          title: payload.file.title,
          content: payload.file.content,
        });
        filesOwed.delete(key);
      }
      return ts;
    },

    async update(channel: string, ts: string, payload: OutboxPayload): Promise<void> {
      await client.chat.update({ channel, ts, text: payload.text, blocks: payload.blocks as never });
    },

    async publishHome(userId: string, view: unknown): Promise<void> {
      await client.views.publish({ user_id: userId, view: view as never });
    },
  };
}
export type SlackDelivery = ReturnType<typeof createSlackDelivery>;
