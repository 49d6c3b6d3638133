import { readFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTION_IDS } from '../../src/slack/actions/index.js';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { COMMANDS } from '../../src/slack/commands/index.js';
import { SUBCOMMANDS } from '../../src/slack/commands/parse-secret-command.js';
import { VIEW_CALLBACK_IDS } from '../../src/slack/views/index.js';
import { EVENTS } from '../../src/slack/events/index.js';
import { freshDatabaseUrl } from '../support/db.js';
import { ROOT } from '../support/spawn.js';
import { startSlackScenario } from '../support/slack-scenario.js';
import { seededDataDir } from '../support/seeded-data-dir.js';

describe('a pending request survives a restart', () => {
  it('is approved after keyturn restarts and applied once', async () => {
    const fresh = await freshDatabaseUrl();
    const pgliteDir = fresh.url ? undefined : seededDataDir('keyturn-restart-');
    const masterKey = Buffer.alloc(32, 3).toString('base64');
    const opts = { databaseUrl: fresh.url, pgliteDir, env: { KEYTURN_MASTER_KEY: masterKey } };
    let t = await startSlackScenario(opts);
    await t.server.seed('prod', 'PERSIST', 'before');
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'PERSIST', operation: 'update', value: 'after-restart', reason: 'restart test' });
    await t.callsTo('chat.postMessage', 2);
    const id = t.requestIdIn(t.lastDrawn())!;
    await t.slack.click('U0BOB', 'request_approve', id);
    await t.until(() => t.standIn.callsTo('chat.update').length >= 1);
    await t.server.stop();
    await t.standIn.close();

    t = await startSlackScenario(opts);
    try {
      await t.slack.click('U0CAROL', ACTIONS.approve, id);
      await t.until(() => t.standIn.callsTo('chat.update').length >= 1);
      expect(JSON.stringify(t.standIn.callsTo('chat.update')[0].args)).toContain('Applied as version 2');
      expect((await t.server.api('/v1/secrets/prod/PERSIST')).body).toMatchObject({ version: 2, value: 'after-restart' });
    } finally {
      await t.server.stop();
      await t.standIn.close();
      await fresh.drop();
    }
  });
});

describe('stopping while a click is being decided', () => {
  it('waits for the acknowledged decision to be recorded before closing the database', async () => {
    const fresh = await freshDatabaseUrl();
    const pgliteDir = fresh.url ? undefined : seededDataDir('keyturn-stop-');
    const opts = {
      databaseUrl: fresh.url,
      pgliteDir,
      env: { KEYTURN_MASTER_KEY: Buffer.alloc(32, 4).toString('base64') },
      policy: 'environments:\n  staging:\n    approvers: [S0PLATFORM]\n    required_approvals: 1\n    approval_channel: C0APPR\n',
    };
    let t = await startSlackScenario(opts);
    await t.submitRequest('U0ALICE', { environment: 'staging', key: 'SLOW_DECISION', operation: 'create', value: 'v', reason: 'stop test' });
    await t.callsTo('chat.postMessage', 1);
    const id = t.requestIdIn(t.lastDrawn())!;
    t.standIn.setDelay(1_500); // the group lookup behind the decision is slow
    const click = await t.slack.click('U0DAVE', ACTIONS.approve, id);
    expect(click.status).toBe(200); // acknowledged before the decision is made
    await t.server.stop();
    await t.standIn.close();

    t = await startSlackScenario(opts);
    try {
      const r = await t.server.api(`/v1/requests/${id}`);
      expect(r.body.status).toBe('applied');
      expect(r.body.reviews.map((v: { reviewer: string }) => v.reviewer)).toEqual(['U0DAVE']);
    } finally {
      await t.server.stop();
      await t.standIn.close();
      await fresh.drop();
    }
  });
});

describe('workloads open requests through the API', () => {
  it('a token allowed to request opens one; approvers see it in Slack; the value never shows', async () => {
    const t = await startSlackScenario();
    try {
      await t.server.seed('prod', 'DB_PASSWORD', 'old-password');
      const reader = await t.server.api('/v1/tokens', { method: 'POST', body: { name: 'reader', environments: ['prod'] } });
      const denied = await t.server.api('/v1/requests', {
        method: 'POST',
        token: reader.body.token,
        body: { environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: 'x', reason: 'r' },
      });
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toMatch(/--scope request/);

      const rotator = await t.server.api('/v1/tokens', { method: 'POST', body: { name: 'rotator', environments: ['prod'], scopes: ['request'] } });
      const bad = await t.server.api('/v1/requests', {
        method: 'POST',
        token: rotator.body.token,
        body: { environment: 'prod', key: 'DB_PASSWORD', operation: 'create', value: 'x', reason: 'r' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/already exists/);

      const r = await t.server.api('/v1/requests', {
        method: 'POST',
        token: rotator.body.token,
        body: { environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: 'NEW_PASSWORD_NEEDLE', reason: 'quarterly rotation' },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ status: 'pending', requester: 'token:rotator', requiredApprovals: 2, diff: { oldLength: 12, newLength: 19 } });
      expect(r.text).not.toContain('NEW_PASSWORD_NEEDLE');
      await t.callsTo('chat.postMessage', 1);
      expect(JSON.stringify(t.lastDrawn()!.args)).toContain('rotator');
      await t.slack.click('U0BOB', ACTIONS.approve, r.body.id);
      await t.slack.click('U0CAROL', ACTIONS.approve, r.body.id);
      await t.untilShown('Applied as version 2');
      expect((await t.server.api(`/v1/requests/${r.body.id}`, { token: rotator.body.token })).body.status).toBe('applied');
      expect(t.standIn.everything()).not.toContain('NEW_PASSWORD_NEEDLE');
    } finally {
      await t.close();
    }
  });
});

describe('the Slack app manifest', () => {
  it('covers every command, action and view the code registers, with the scopes they need', () => {
    const manifest = parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8'));
    const commands = manifest.features.slash_commands.map((c: { command: string }) => c.command);
    for (const c of COMMANDS) expect(commands).toContain(c);
    const secret = manifest.features.slash_commands[0];
    // Without escaping, Slack sends @alice as plain text and /secret audit @person cannot name anyone.
    expect(secret.should_escape).toBe(true);
    const hinted = secret.usage_hint.split('|').map((part: string) => part.trim().split(' ')[0]);
    expect(new Set(hinted)).toEqual(new Set(SUBCOMMANDS));
    if (ACTION_IDS.length + VIEW_CALLBACK_IDS.length > 0) expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    for (const e of EVENTS) expect(manifest.settings.event_subscriptions.bot_events).toContain(e);
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'im:write', 'users:read', 'usergroups:read', 'channels:history', 'groups:history', 'im:history']));
    for (const url of [manifest.settings.interactivity.request_url, manifest.features.slash_commands[0].url]) expect(url).toMatch(/\/slack\/events$/);
  });
});
