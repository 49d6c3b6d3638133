import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { classify, rotationStatus } from '../../../src/domain/rotation/rotation-status.js';
import { testDomain, type TestDomain } from '../../support/domain.js';
import { DAY, MINUTE, ROTATION_POLICY, changedAt, rotationServices, testClock, type TestClock } from './support.js';

describe('classify: where one secret stands against its interval', () => {
  const changed = new Date('2025-01-01T09:00:00Z');
  const every = 90 * DAY;
  const warn = 7 * DAY;
  const at = (days: number, extraMs = 0) => new Date(changed.getTime() + days * DAY + extraMs);

  it('is not listed until warn_before ahead of the due date', () => {
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(0), warn)).toBeUndefined();
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(82), warn)).toBeUndefined();
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(83, -1), warn)).toBeUndefined();
  });

  it('is due soon from exactly warn_before ahead, with its due date and age', () => {
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(83), warn)).toEqual({ state: 'due_soon', dueAt: at(90), ageMs: 83 * DAY });
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(90, -1), warn)?.state).toBe('due_soon');
  });

  it('is overdue from the due date on', () => {
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(90), warn)).toEqual({ state: 'overdue', dueAt: at(90), ageMs: 90 * DAY });
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(400), warn)).toMatchObject({ state: 'overdue', ageMs: 400 * DAY });
  });

  it('with warn_before of 0 a secret is only ever overdue; a clock behind the change gives age 0', () => {
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(89), 0)).toBeUndefined();
    expect(classify({ lastChangedAt: changed, everyMs: every }, at(90), 0)?.state).toBe('overdue');
    expect(classify({ lastChangedAt: changed, everyMs: 1 * DAY }, at(-1), 7 * DAY)).toMatchObject({ state: 'due_soon', ageMs: 0 });
  });
});

let d: TestDomain;
let clock: TestClock;

const listed = async () =>
  (await rotationServices(d, clock).status.dueSecrets()).map((i) => `${i.environment}/${i.key} ${i.state}`);

describe('which secrets are due, with an injected clock', () => {
  beforeEach(async () => {
    d = await testDomain();
    clock = testClock();
  });
  afterEach(() => d.close());

  it('a secret changed 85 days ago in a 90-day environment with warn_before 7d is due soon; 91 days overdue; 80 days not listed', async () => {
    for (const key of ['DB_85', 'DB_91', 'DB_80']) await d.put('prod', key, `value-of-${key}`, 'slack:U0ALICE');
    await changedAt(d, 'prod', 'DB_85', new Date(clock.ms - 85 * DAY));
    await changedAt(d, 'prod', 'DB_91', new Date(clock.ms - 91 * DAY));
    await changedAt(d, 'prod', 'DB_80', new Date(clock.ms - 80 * DAY));

    const items = await rotationServices(d, clock).status.dueSecrets();
    expect(items.map((i) => `${i.key} ${i.state}`)).toEqual(['DB_91 overdue', 'DB_85 due_soon']);
    const [overdue, soon] = items;
    expect(overdue).toMatchObject({
      environment: 'prod',
      version: 1,
      lastChangedAt: new Date(clock.ms - 91 * DAY),
      lastChangedBy: 'slack:U0ALICE',
      everyMs: 90 * DAY,
      dueAt: new Date(clock.ms - 1 * DAY),
      ageMs: 91 * DAY,
      owners: [],
    });
    expect(soon).toMatchObject({ dueAt: new Date(clock.ms + 5 * DAY), ageMs: 85 * DAY });
    expect(JSON.stringify(items)).not.toContain('value-of-');
  });

  it('fires when it should and not before: as the clock moves on, one secret goes from unlisted to due soon to overdue', async () => {
    await d.put('prod', 'DB_PASSWORD', 'pw-1');
    const changed = (await d.store.head('prod', 'DB_PASSWORD')).updatedAt!.getTime();

    clock.set(changed + 83 * DAY - MINUTE);
    expect(await listed()).toEqual([]);
    clock.set(changed + 83 * DAY);
    expect(await listed()).toEqual(['prod/DB_PASSWORD due_soon']);
    clock.set(changed + 90 * DAY - MINUTE);
    expect(await listed()).toEqual(['prod/DB_PASSWORD due_soon']);
    clock.set(changed + 90 * DAY);
    expect(await listed()).toEqual(['prod/DB_PASSWORD overdue']);
  });

  it('a key-glob rule wins over the environment: *_API_KEY in prod every 30 days, with its owners', async () => {
    await d.put('prod', 'STRIPE_API_KEY', 'sk-1');
    await d.put('prod', 'DB_PASSWORD', 'pw-1');
    await d.put('staging', 'STRIPE_API_KEY', 'sk-s'); // the rule names prod only: staging's 180 days apply
    for (const [env, key] of [['prod', 'STRIPE_API_KEY'], ['prod', 'DB_PASSWORD'], ['staging', 'STRIPE_API_KEY']]) {
      await changedAt(d, env, key, new Date(clock.ms - 31 * DAY));
    }
    const items = await rotationServices(d, clock).status.dueSecrets();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ environment: 'prod', key: 'STRIPE_API_KEY', state: 'overdue', everyMs: 30 * DAY, owners: ['S0PAYMENTS', 'U0OWEN'] });
  });

  it('any change resets the clock: a new version of an overdue secret is no longer listed', async () => {
    await d.put('prod', 'DB_PASSWORD', 'pw-1');
    await changedAt(d, 'prod', 'DB_PASSWORD', new Date(clock.ms - 91 * DAY));
    expect(await listed()).toEqual(['prod/DB_PASSWORD overdue']);

    await d.put('prod', 'DB_PASSWORD', 'pw-2');
    clock.set(Date.now());
    expect(await listed()).toEqual([]);
    clock.advance(83 * DAY + MINUTE); // and the new version's own clock runs from its change
    expect(await listed()).toEqual(['prod/DB_PASSWORD due_soon']);
  });

  it('lists live secrets only, and only where the policy asks for rotation', async () => {
    await d.put('prod', 'OLD_TOKEN', 'x');
    const head = await d.store.head('prod', 'OLD_TOKEN');
    await d.store.writeSecret({ environment: 'prod', key: 'OLD_TOKEN', operation: 'delete', expectedVersion: head.version }, { actor: 'alice', reason: 'retired' });
    await d.put('dev', 'DB_PASSWORD', 'x'); // dev has no interval
    await d.put('qa', 'DB_PASSWORD', 'x'); // not in the policy at all
    for (const [env, key] of [['prod', 'OLD_TOKEN'], ['dev', 'DB_PASSWORD'], ['qa', 'DB_PASSWORD']]) await changedAt(d, env, key, new Date(clock.ms - 400 * DAY));
    expect(await listed()).toEqual([]);
  });

  it('a policy without a rotation section lists nothing', async () => {
    await d.put('prod', 'DB_PASSWORD', 'pw');
    await changedAt(d, 'prod', 'DB_PASSWORD', new Date(clock.ms - 400 * DAY));
    const policy = parsePolicy('environments:\n  prod:\n    approvers: [U0BOB]\n    required_approvals: 1\n');
    expect(await rotationStatus({ database: d.database, policy: () => policy, now: clock.now }).dueSecrets()).toEqual([]);
    expect(await rotationStatus({ database: d.database, policy: () => undefined, now: clock.now }).dueSecrets()).toEqual([]);
    expect(ROTATION_POLICY.rotation?.warn_before.ms).toBe(7 * DAY);
  });

  it('a snoozed secret is left out until the snooze ends, and listed with snoozedUntil when asked for', async () => {
    await d.put('prod', 'DB_PASSWORD', 'pw');
    await changedAt(d, 'prod', 'DB_PASSWORD', new Date(clock.ms - 91 * DAY));
    const rotation = rotationServices(d, clock);
    expect((await rotation.snooze({ environment: 'prod', key: 'DB_PASSWORD', userId: 'U0BOB', days: 3 })).kind).toBe('snoozed');

    expect(await listed()).toEqual([]);
    const all = await rotation.status.dueSecrets({ includeSnoozed: true });
    expect(all.map((i) => [i.key, i.snoozedUntil])).toEqual([['DB_PASSWORD', new Date(clock.ms + 3 * DAY)]]);
    clock.advance(3 * DAY - MINUTE);
    expect(await listed()).toEqual([]);
    clock.advance(MINUTE);
    expect(await listed()).toEqual(['prod/DB_PASSWORD overdue']);
  });
});
