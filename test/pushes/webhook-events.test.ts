import { describe, expect, it } from 'vitest';
import type { WebhookPolicy } from '../../src/domain/policies/index.js';
import type { ChangeRequest } from '../../src/domain/requests/request-types.js';
import { eventId, wants, webhookEventsOf } from '../../src/pushes/webhook-events.js';

const closedAt = new Date('2026-01-02T03:04:05.000Z');
const request = (over: Partial<ChangeRequest>): ChangeRequest =>
  ({
    id: 'req_abc',
    environment: 'prod',
    key: 'API_TOKEN',
    operation: 'update',
    status: 'applied',
    requester: 'slack:U0ALICE',
    closedBy: 'slack:U0BOB',
    closedAt,
    appliedVersion: 7,
    breakGlass: false,
    ...over,
  }) as ChangeRequest;
const hook = (over: Partial<WebhookPolicy> = {}): WebhookPolicy => ({
  name: 'deploy-hook',
  url: 'https://example.invalid/hook',
  secret_env: 'X',
  keys: '*',
  events: ['secret.applied', 'request.denied', 'request.expired', 'access.granted', 'breakglass.used'],
  allow_http: false,
  ...over,
});

describe('what a request closing means to webhooks', () => {
  it('an approved change: secret.applied, by the person whose change it is, with its version', () => {
    expect(webhookEventsOf(request({}))).toEqual([
      { id: eventId('req_abc', 'secret.applied'), type: 'secret.applied', time: '2026-01-02T03:04:05.000Z', environment: 'prod', key: 'API_TOKEN', version: 7, operation: 'update', actor: 'slack:U0ALICE', request_id: 'req_abc' },
    ]);
  });

  it('a break-glass change: secret.applied and breakglass.used, by the person who broke the glass', () => {
    const events = webhookEventsOf(request({ breakGlass: true, closedBy: 'keyturn' }));
    expect(events.map((e) => [e.type, e.actor, e.version])).toEqual([
      ['secret.applied', 'slack:U0ALICE', 7],
      ['breakglass.used', 'slack:U0ALICE', 7],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('denied, expired, an access grant; nothing while pending or when cancelled', () => {
    expect(webhookEventsOf(request({ status: 'denied', appliedVersion: null }))).toMatchObject([{ type: 'request.denied', actor: 'slack:U0BOB', version: null }]);
    expect(webhookEventsOf(request({ status: 'expired', closedBy: 'keyturn', appliedVersion: null }))).toMatchObject([{ type: 'request.expired', actor: 'keyturn' }]);
    expect(webhookEventsOf(request({ operation: 'access', appliedVersion: null }))).toMatchObject([{ type: 'access.granted', operation: 'access', version: null, actor: 'slack:U0ALICE' }]);
    expect(webhookEventsOf(request({ status: 'pending', closedAt: null }))).toEqual([]);
    expect(webhookEventsOf(request({ status: 'cancelled' }))).toEqual([]);
  });

  it('the event id is the same every time (stable across retries and repeated tellings)', () => {
    expect(webhookEventsOf(request({}))[0].id).toBe(webhookEventsOf(request({}))[0].id);
    expect(eventId('req_abc', 'secret.applied')).not.toBe(eventId('req_abd', 'secret.applied'));
  });

  it('a webhook gets only its environments, keys and events', () => {
    const [applied] = webhookEventsOf(request({}));
    expect(wants(hook(), applied)).toBe(true);
    expect(wants(hook({ environments: ['staging'] }), applied)).toBe(false);
    expect(wants(hook({ environments: ['staging', 'prod'] }), applied)).toBe(true);
    expect(wants(hook({ keys: 'DB_*' }), applied)).toBe(false);
    expect(wants(hook({ keys: 'API_*' }), applied)).toBe(true);
    expect(wants(hook({ events: ['request.denied'] }), applied)).toBe(false);
  });
});
