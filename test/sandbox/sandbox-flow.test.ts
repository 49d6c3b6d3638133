import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Locator, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/spawn.js';
import { type RunningSandbox, chromiumPath, startSandbox } from './sandbox-process.js';

/**
 * `npm run sandbox` in a real browser (Debian's chromium): Alice asks to change a prod secret, Bob approves,
 * Oscar (no approver) is refused, Carol approves, the change is applied and Alice is told; then Bob denies a
 * second request with a reason. Everything asserted is what the page shows. SANDBOX_SCREENSHOTS=1 saves each
 * step to docs/sandbox/ (the README shows them).
 */
const SHOTS = process.env.SANDBOX_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'sandbox') : undefined;

let sandbox: RunningSandbox;
let browser: Browser;
let page: Page;
let shot = 0;
/** Milliseconds from spawning `npm run sandbox` to the first drawn page. */
let firstPageMs = 0;

const snap = async (name: string) => {
  shot++;
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
};
/** Waits until `where` shows text matching `text` (the page redraws from the sandbox every half second). */
// Each look is short and the poll decides when to give up: one innerText that waited on its own for the
// element (up to 30 s) outlasted the poll on a busy machine while the page had long since drawn it.
const shows = (where: Locator, text: RegExp) =>
  expect.poll(() => where.innerText({ timeout: 1_000 }).catch(() => ''), { timeout: 30_000 }).toMatch(text);
const textOf = async (where: Locator) => {
  await where.waitFor({ timeout: 15_000 });
  return where.innerText();
};
const countOf = (where: Locator, n: number) => expect.poll(() => where.count(), { timeout: 15_000 }).toBe(n);

const actAs = (id: string) => page.selectOption('#person', id);
const openConversation = (id: string) => page.click(`.nav-item[data-conversation="${id}"]`);
const command = async (text: string) => {
  await page.fill('#command', text);
  await page.press('#command', 'Enter');
};
const modal = () => page.locator('#modal .modal-dialog');
/** The newest message everyone sees in the open conversation that mentions `text`. */
const message = (text: string) => page.locator('#messages > .message:not(.ephemeral)').filter({ hasText: text }).last();
/** Clicks a button on a message and, when it asks, says yes in its confirm dialog. */
const clickAndConfirm = async (on: Locator, button: string) => {
  await on.getByRole('button', { name: button, exact: true }).click();
  const confirm = page.locator('#confirm .confirm-dialog');
  await confirm.waitFor({ timeout: 5_000 });
  await confirm.getByRole('button', { name: button, exact: true }).click();
};

beforeAll(async () => {
  const executablePath = chromiumPath();
  const started = Date.now();
  sandbox = await startSandbox();
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${sandbox.pageUrl}?as=U0ALICE&at=C0APPROVALS`);
  await page.waitForSelector('body[data-ready="true"]');
  firstPageMs = Date.now() - started;
  if (SHOTS) {
    // The steps' numbers change when a step is added: last run's pictures go first.
    mkdirSync(SHOTS, { recursive: true });
    for (const old of readdirSync(SHOTS).filter((f) => f.endsWith('.png'))) rmSync(join(SHOTS, old));
  }
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
  if (firstPageMs) process.stdout.write(`[sandbox] npm run sandbox → first drawn page: ${firstPageMs} ms\n`);
});

describe('npm run sandbox, in a browser', () => {
  it('a change to prod: request, first approval, an outsider refused, second approval, applied, the requester told', async () => {
    // Alice types the slash command in #prod-approvals; keyturn opens its request modal.
    await command('/secret request prod DATABASE_URL');
    await modal().waitFor();
    expect(await textOf(modal().locator('.dialog-title'))).toBe('Secret request');
    await modal().getByLabel('Environment').selectOption('prod');
    // A new secret: choosing "create" redraws the modal (views.update); what was typed stays.
    await modal().getByLabel('New value').fill('postgres://app:not-a-real-password@db/app');
    const drawn = await modal().getAttribute('data-hash');
    await modal().getByLabel('Operation').selectOption('create');
    await expect.poll(() => modal().getAttribute('data-hash'), { timeout: 30_000 }).not.toBe(drawn);
    expect(await modal().getByLabel('New value').inputValue()).toBe('postgres://app:not-a-real-password@db/app');
    await modal().getByLabel('Reason').fill('Rotate after the <vendor> incident & move to the new host <img src=x>');
    await snap('request-modal');
    await modal().getByRole('button', { name: 'Request', exact: true }).click();
    await modal().waitFor({ state: 'detached', timeout: 30_000 });

    // The approval message in #prod-approvals: typed text is shown as typed, never as markup; no value anywhere.
    const approval = message('DATABASE_URL');
    await shows(approval, /0 of 2/);
    expect(await textOf(approval)).toContain('Rotate after the <vendor> incident & move to the new host <img src=x>');
    await countOf(page.locator('#messages img'), 0);
    expect(await textOf(approval.locator('.mention.user').first())).toBe('@Alice');
    expect(await textOf(page.locator('#messages'))).not.toContain('not-a-real-password');
    await snap('approval-posted');

    // Bob approves: the same message is updated in place.
    await actAs('U0BOB');
    await clickAndConfirm(message('DATABASE_URL'), 'Approve');
    await shows(message('DATABASE_URL'), /1 of 2/);
    expect(await textOf(message('DATABASE_URL').locator('.edited'))).toBe('(edited)');
    await snap('first-approval');

    // Oscar is no approver: keyturn refuses him in a reply only he sees, and the count does not move.
    await actAs('U0OSCAR');
    await clickAndConfirm(message('DATABASE_URL'), 'Approve');
    const refusal = page.locator('#messages .message.ephemeral').last();
    await shows(refusal, /You are not an approver for prod\/DATABASE_URL/);
    expect(await textOf(refusal.locator('.only-you'))).toBe('Only visible to you');
    expect(await textOf(message('DATABASE_URL'))).toContain('1 of 2');
    await snap('outsider-refused');

    // Carol (an approver through the @sre group) approves: quorum met, the change is applied.
    await actAs('U0CAROL');
    await countOf(page.locator('#messages .message.ephemeral'), 0);
    await clickAndConfirm(message('DATABASE_URL'), 'Approve');
    await shows(message('DATABASE_URL'), /applied/i);
    await snap('applied');

    // Alice is told in her DM with keyturn.
    await actAs('U0ALICE');
    await openConversation('D0ALICE');
    await shows(page.locator('#messages'), /DATABASE_URL[\s\S]*was applied/);
    expect(await textOf(page.locator('#messages'))).not.toContain('not-a-real-password');
    await snap('requester-told');
  }, 60_000);

  it('a deny with its reason: the deny modal, the message, and the requester told why', async () => {
    await openConversation('C0APPROVALS');
    await command('/secret request prod STRIPE_KEY');
    await modal().waitFor();
    await modal().getByLabel('Environment').selectOption('prod');
    // Choosing "create" redraws the modal (views.update): type after the redraw, or a busy machine submits
    // the modal as it was before it and keyturn rightly asks again.
    const drawn = await modal().getAttribute('data-hash');
    await modal().getByLabel('Operation').selectOption('create');
    await expect.poll(() => modal().getAttribute('data-hash'), { timeout: 30_000 }).not.toBe(drawn);
    await modal().getByLabel('New value').fill('sk_test_sandbox');
    await modal().getByLabel('Reason').fill('New Stripe account');
    await modal().getByRole('button', { name: 'Request', exact: true }).click();
    await modal().waitFor({ state: 'detached', timeout: 30_000 });
    await shows(message('STRIPE_KEY'), /0 of 2/);

    await actAs('U0BOB');
    await message('STRIPE_KEY').getByRole('button', { name: 'Deny', exact: true }).click();
    await modal().waitFor();
    expect(await textOf(modal().locator('.dialog-title'))).toBe('Deny request');
    // Slack refuses to submit a required input left empty: the modal says so.
    await modal().getByRole('button', { name: 'Deny', exact: true }).click();
    expect(await textOf(modal().locator('.bk-error'))).toBe('Please complete this required field.');
    await modal().getByLabel('Why are you denying it?').fill('Use the *vault* key instead, see `SEC-42`');
    await snap('deny-modal');
    await modal().getByRole('button', { name: 'Deny', exact: true }).click();
    await modal().waitFor({ state: 'detached' });
    await shows(message('STRIPE_KEY'), /denied/i);
    await snap('denied');

    await actAs('U0ALICE');
    await openConversation('D0ALICE');
    const told = page.locator('#messages > .message').filter({ hasText: 'was denied' }).last();
    await shows(told, /STRIPE_KEY[\s\S]*was denied by @Bob/);
    // mrkdwn in the reason is drawn (bold, code), escaped as keyturn escaped it.
    await countOf(told.locator('code').filter({ hasText: 'SEC-42' }), 1);
    await snap('requester-told-denied');
  }, 60_000);

  it('fires the rotation reminder now and shows App Home', async () => {
    await page.getByRole('button', { name: 'Fire now: rotation-reminder' }).click();
    await openConversation('C0SECOPS');
    await shows(page.locator('#messages'), /EXAMPLE_API_KEY/);
    // Ada (an admin) snoozes it from the message's select; keyturn answers her alone.
    await actAs('U0ADA');
    await page.locator('#messages > .message').filter({ hasText: 'Rotation reminder' }).last().locator('select').selectOption({ label: 'Snooze 7 days' });
    await shows(page.locator('#messages .message.ephemeral').last(), /Snoozed for 7 days: dev \/ EXAMPLE_API_KEY/);
    await snap('rotation-reminder');

    await page.click('#nav-home');
    await shows(page.locator('#messages .home'), /.+/);
    await snap('app-home');
  });
});
