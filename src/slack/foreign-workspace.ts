import type { Logger } from '../logger.js';
import { renderNoticeModalUpdate } from './blocks/index.js';

/** A Slack request from a workspace (or org) other than the bot's own: refused, audited, answered. */
export interface ForeignRefusal {
  teamIds: string[];
  enterpriseId?: string;
  userId?: string;
  kind: 'command' | 'click' | 'submission' | 'event' | 'other';
}

const SENTENCE = 'keyturn here serves one Slack workspace, and this came from another one, so nothing was done. Ask your own workspace\'s keyturn admin.';

/** What keyturn answers Slack with for a refused request: words the person sees where Slack shows them. */
export function foreignRefusalResponse(refusal: ForeignRefusal): unknown {
  switch (refusal.kind) {
    case 'command':
      return { response_type: 'ephemeral', text: SENTENCE };
    case 'submission':
      return renderNoticeModalUpdate(SENTENCE);
    default:
      return undefined;
  }
}

/**
 * A click carries no answer in its ack; its response_url is how the clicker is told. Only Slack's own
 * hosts (or the configured Web API base, where tests run a stand-in) are ever called.
 */
export async function tellForeignClicker(responseUrl: unknown, slackApiUrl: string | undefined, logger: Logger): Promise<void> {
  if (typeof responseUrl !== 'string') return;
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return;
  }
  const slackHost = url.protocol === 'https:' && (url.hostname === 'slack.com' || url.hostname.endsWith('.slack.com'));
  const standIn = slackApiUrl !== undefined && url.origin === new URL(slackApiUrl).origin;
  if (!slackHost && !standIn) return;
  await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: SENTENCE }),
    signal: AbortSignal.timeout(5_000),
  }).catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'could not tell a clicker from another workspace'));
}
