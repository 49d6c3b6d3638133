import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_FIELDS, REQUEST_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { startSlackStandIn, type SlackStandIn } from './slack-stand-in.js';
import { slackClient } from './slack-requests.js';
import type { StartOptions } from '../../src/app.js';
import { startTestServer, type TestServer } from './server.js';
import { waitFor } from './spawn.js';

export const POLICY = `
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, U0CAROL, U0ALICE]
    required_approvals: 2
    approval_channel: C0APPR
    request_ttl: 24h
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
  dev:
    required_approvals: 0
`;

export interface RequestForm {
  environment?: string;
  key?: string;
  operation?: 'create' | 'update' | 'delete';
  value?: string;
  reason?: string;
}

/** The request modal's state.values as Slack sends them on submit. */
export function modalValues(form: RequestForm) {
  const values: Record<string, Record<string, unknown>> = {
    [REQUEST_FIELDS.environment.block]: {
      [REQUEST_FIELDS.environment.action]: { type: 'static_select', selected_option: form.environment ? { value: form.environment, text: { type: 'plain_text', text: form.environment } } : null },
    },
    [REQUEST_FIELDS.key.block]: { [REQUEST_FIELDS.key.action]: { type: 'plain_text_input', value: form.key ?? null } },
    [REQUEST_FIELDS.operation.block]: {
      [REQUEST_FIELDS.operation.action]: { type: 'static_select', selected_option: { value: form.operation ?? 'update', text: { type: 'plain_text', text: form.operation ?? 'update' } } },
    },
    [REQUEST_FIELDS.reason.block]: { [REQUEST_FIELDS.reason.action]: { type: 'plain_text_input', value: form.reason ?? null } },
  };
  if (form.operation !== 'delete') {
    values[REQUEST_FIELDS.value.block] = { [REQUEST_FIELDS.value.action]: { type: 'plain_text_input', value: form.value ?? null } };
  }
  return values;
}

/** The access modal's state.values as Slack sends them on submit. */
export function accessModalValues(f: { environment?: string; keys?: string; duration?: string; reason?: string }) {
  const text = (v?: string) => ({ type: 'plain_text_input', value: v ?? null });
  return {
    [ACCESS_FIELDS.environment.block]: { [ACCESS_FIELDS.environment.action]: { type: 'static_select', selected_option: f.environment ? { value: f.environment } : null } },
    [ACCESS_FIELDS.keys.block]: { [ACCESS_FIELDS.keys.action]: text(f.keys) },
    [ACCESS_FIELDS.duration.block]: { [ACCESS_FIELDS.duration.action]: text(f.duration) },
    [ACCESS_FIELDS.reason.block]: { [ACCESS_FIELDS.reason.action]: text(f.reason) },
  };
}

/** keyturn with Slack wired to a recording stand-in, a policy file, and a signed Slack client. */
export async function startSlackScenario(opts: { policy?: string; groups?: Record<string, string[]>; env?: Record<string, string>; databaseUrl?: string; pgliteDir?: string; now?: () => Date; authTest?: Record<string, unknown>; webhooks?: StartOptions['webhooks'] } = {}) {
  const standIn = await startSlackStandIn({ groups: opts.groups ?? { S0PLATFORM: ['U0DAVE', 'U0ERIN'] }, authTest: opts.authTest });
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-slack-'));
  const policyFile = join(dir, 'policies.yml');
  writeFileSync(policyFile, opts.policy ?? POLICY);
  const signingSecret = `signing-${randomBytes(8).toString('hex')}`;
  const server: TestServer = await startTestServer(
    { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: standIn.url, KEYTURN_POLICY_FILE: policyFile, ...opts.env },
    { databaseUrl: opts.databaseUrl, pgliteDir: opts.pgliteDir, now: opts.now, webhooks: opts.webhooks },
  );
  const slack = slackClient(server.url, signingSecret);

  /** A person fills in the request modal and submits it. */
  const submitRequest = (user: string, form: RequestForm) => slack.submit(user, VIEWS.request, modalValues(form));

  /** The approval message of the newest request, as last drawn (post or update). */
  const lastDrawn = (channel = 'C0APPR') => {
    const drawn = standIn.calls.filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.channel === channel);
    return drawn.at(-1);
  };
  const requestIdIn = (call: { args: Record<string, any> } | undefined) => /req_[0-9a-f]{10}/.exec(JSON.stringify(call?.args ?? {}))?.[0];

  /** Waits until the newest drawing of the approval message (in `channel`) shows `pattern`. */
  const untilShown = async (pattern: RegExp | string, channel = 'C0APPR') => {
    const test = (text: string) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
    await waitFor(() => test(JSON.stringify(lastDrawn(channel)?.args ?? {})), 15_000);
  };

  return {
    server,
    standIn,
    untilShown,
    slack,
    signingSecret,
    submitRequest,
    lastDrawn,
    requestIdIn,
    until: (check: () => boolean, ms = 10_000) => waitFor(check, ms),
    /** Waits until keyturn has made at least n calls to a Web API method. */
    callsTo: async (method: string, n = 1) => {
      await waitFor(() => standIn.callsTo(method).length >= n, 10_000);
      return standIn.callsTo(method);
    },
    async close() {
      await server.close();
      await standIn.close();
    },
  };
}
export type SlackScenario = Awaited<ReturnType<typeof startSlackScenario>>;
