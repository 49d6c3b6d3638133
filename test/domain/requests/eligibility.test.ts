import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { type DecisionRefusal, groupsFor, refusalFor } from '../../../src/domain/requests/eligibility.js';
import type { ChangeRequest, Review } from '../../../src/domain/requests/request-types.js';
import { decisionRefusalText } from '../../../src/slack/blocks/index.js';

const T0 = new Date('2025-03-10T09:00:00Z');

/** Alice asked to update prod/STRIPE_KEY; Bob, Carol and the platform group (Dave, Erin) approve prod. */
function request(over: Partial<ChangeRequest> = {}): ChangeRequest {
  return {
    id: 'req_0123456789',
    environment: 'prod',
    key: 'STRIPE_KEY',
    operation: 'update',
    status: 'pending',
    baseVersion: 1,
    oldLength: 11,
    oldFingerprint: 'aaaa',
    newLength: 11,
    newFingerprint: 'bbbb',
    requester: 'slack:U0ALICE',
    requesterUserId: 'U0ALICE',
    teamId: 'T1',
    reason: 'rotate',
    policy: {
      approvers: ['U0ALICE', 'U0BOB', 'U0CAROL', 'S0PLATFORM'],
      requiredApprovals: 2,
      approvalChannel: null,
      requestTtlMs: 86_400_000,
      matchedRule: null,
      remindAfterMs: null,
      escalateAfterMs: null,
      escalateTo: null,
    },
    appliedVersion: null,
    outcome: null,
    closedBy: null,
    createdAt: T0,
    expiresAt: new Date(T0.getTime() + 86_400_000),
    closedAt: null,
    rollbackTo: null,
    accessKeys: null,
    accessForMs: null,
    breakGlass: false,
    acknowledgedBy: null,
    acknowledgedAt: null,
    flaggedBy: null,
    flaggedAt: null,
    reviews: [],
    ...over,
  };
}

const review = (reviewer: string, decision: Review['decision']): Review => ({ reviewer, decision, step: 0, comment: null, createdAt: T0 });

const GROUP_DOWN = new AppError('internal', 'Could not look up the members of user group S0PLATFORM in Slack (ratelimited); nothing was recorded, try again in a minute.');

/** Slack's answer for the platform group: its members, or a failed lookup. */
type Directory = 'answers' | 'fails';
const directories: Record<Directory, (g: string) => Promise<readonly string[]>> = {
  answers: async (g) => ({ S0PLATFORM: ['U0DAVE', 'U0ERIN', 'U0ALICE'], S0SRE: ['U0SAM'] })[g] ?? [],
  fails: async (g) => {
    if (g === 'S0PLATFORM') throw GROUP_DOWN;
    return ({ S0SRE: ['U0SAM'] } as Record<string, string[]>)[g] ?? [];
  },
};

/** What a click decides: the groups looked up as `decide` does (before the lock), then the rule. */
async function click(r: ChangeRequest, userId: string, directory: Directory, teamId = 'T1') {
  const lookedUp: string[] = [];
  const membersOf = (g: string) => {
    lookedUp.push(g);
    return directories[directory](g);
  };
  const clicker = { userId, teamId };
  return { refusal: refusalFor(r, clicker, await groupsFor(r, clicker, membersOf)), lookedUp };
}

type Row = [story: string, r: ChangeRequest, userId: string, teamId: string, directory: Directory, expected: DecisionRefusal | undefined | 'error'];

const rules: Row[] = [
  ['an approver named directly counts', request(), 'U0BOB', 'T1', 'answers', undefined],
  ['a member of an approver group counts', request(), 'U0DAVE', 'T1', 'answers', undefined],
  ['the requester never counts, though named as an approver', request(), 'U0ALICE', 'T1', 'answers', { code: 'own_request' }],
  ['the requester never counts through a group either', request({ policy: { ...request().policy, approvers: ['U0BOB', 'S0PLATFORM'] } }), 'U0ALICE', 'T1', 'answers', { code: 'own_request' }],
  ['one person counts once: a second approval', request({ reviews: [review('U0BOB', 'approve')] }), 'U0BOB', 'T1', 'answers', { code: 'already_decided', decision: 'approve' }],
  ['one person counts once: approving after denying', request({ reviews: [review('U0DAVE', 'deny')] }), 'U0DAVE', 'T1', 'answers', { code: 'already_decided', decision: 'deny' }],
  ['someone from another workspace is refused, though an approver', request(), 'U0BOB', 'T2', 'answers', { code: 'other_workspace' }],
  [
    'someone who is no approver is refused, and told who is',
    request(),
    'U0MALLORY',
    'T1',
    'answers',
    { code: 'not_an_approver', environment: 'prod', key: 'STRIPE_KEY', approvers: ['U0ALICE', 'U0BOB', 'U0CAROL', 'S0PLATFORM'] },
  ],
  ['a member of a group that approves elsewhere is no approver here', request(), 'U0SAM', 'T1', 'answers', { code: 'not_an_approver', environment: 'prod', key: 'STRIPE_KEY', approvers: ['U0ALICE', 'U0BOB', 'U0CAROL', 'S0PLATFORM'] }],
  ['a failed group lookup is an error, not a refusal', request(), 'U0MALLORY', 'T1', 'fails', 'error'],
  ['a failed group lookup is an error, not an approval', request(), 'U0DAVE', 'T1', 'fails', 'error'],
  ['a failed group lookup does not lock out an approver named directly', request(), 'U0CAROL', 'T1', 'fails', undefined],
  ['a member found in another group counts though one group failed', request({ policy: { ...request().policy, approvers: ['S0PLATFORM', 'S0SRE'] } }), 'U0SAM', 'T1', 'fails', undefined],
  ['a closed request is refused with its state', request({ status: 'applied' }), 'U0BOB', 'T1', 'answers', { code: 'closed', status: 'applied' }],
  ['a closed request is refused before any group is asked', request({ status: 'denied' }), 'U0DAVE', 'T1', 'fails', { code: 'closed', status: 'denied' }],
];

describe('who may decide on a request', () => {
  it.each(rules)('%s', async (_story, r, userId, teamId, directory, expected) => {
    if (expected === 'error') {
      await expect(click(r, userId, directory, teamId)).rejects.toBe(GROUP_DOWN);
    } else {
      expect((await click(r, userId, directory, teamId)).refusal).toEqual(expected);
    }
  });

  it('asks Slack about groups only when the answer depends on them', async () => {
    expect((await click(request(), 'U0BOB', 'answers')).lookedUp).toEqual([]);
    expect((await click(request(), 'U0ALICE', 'answers')).lookedUp).toEqual([]);
    expect((await click(request({ status: 'expired' }), 'U0MALLORY', 'answers')).lookedUp).toEqual([]);
    expect((await click(request(), 'U0MALLORY', 'answers')).lookedUp).toEqual(['S0PLATFORM']);
  });
});

/** The same request under two steps: Bob or Carol first ("team lead"), then the platform group or Carol ("platform"). */
const stepped = (reviews: Review[] = []) =>
  request({
    policy: {
      ...request().policy,
      approvers: ['U0BOB', 'U0CAROL', 'S0PLATFORM'],
      requiredApprovals: 2,
      steps: [
        { name: 'team lead', approvers: ['U0BOB', 'U0CAROL'], requiredApprovals: 1 },
        { name: 'platform', approvers: ['S0PLATFORM', 'U0CAROL'], requiredApprovals: 1 },
      ],
    },
    reviews,
  });
const steppedReview = (reviewer: string, decision: Review['decision'], step: number): Review => ({ ...review(reviewer, decision), step });
const LEAD = { number: 1, name: 'team lead' };
const PLATFORM = { number: 2, name: 'platform' };

const stepRules: Row[] = [
  ['a step-1 approver decides during step 1', stepped(), 'U0BOB', 'T1', 'answers', undefined],
  ['a step-2 approver (through a group) is refused during step 1, told whose turn it is', stepped(), 'U0DAVE', 'T1', 'answers', { code: 'not_this_step', yours: PLATFORM, current: LEAD }],
  ['a step-2 approver decides once step 1 is complete', stepped([steppedReview('U0BOB', 'approve', 0)]), 'U0DAVE', 'T1', 'answers', undefined],
  ['a step-1 approver is refused once step 1 is complete', stepped([steppedReview('U0CAROL', 'approve', 0)]), 'U0BOB', 'T1', 'answers', { code: 'not_this_step', yours: LEAD, current: PLATFORM }],
  [
    'one person counts in one step only: listed in both, approved in step 1',
    stepped([steppedReview('U0CAROL', 'approve', 0)]),
    'U0CAROL',
    'T1',
    'answers',
    { code: 'already_decided', decision: 'approve', step: LEAD },
  ],
  ['listed in both and not yet decided: counts in the step asked now', stepped([steppedReview('U0BOB', 'approve', 0)]), 'U0CAROL', 'T1', 'answers', undefined],
  ['the requester counts in no step, though in the platform group', stepped([steppedReview('U0BOB', 'approve', 0)]), 'U0ALICE', 'T1', 'answers', { code: 'own_request' }],
  [
    'someone in no step is no approver, and told who the approvers are',
    stepped(),
    'U0MALLORY',
    'T1',
    'answers',
    { code: 'not_an_approver', environment: 'prod', key: 'STRIPE_KEY', approvers: ['U0BOB', 'U0CAROL', 'S0PLATFORM'] },
  ],
  ['a failed lookup of a later step\'s group does not lock out a current approver named directly', stepped(), 'U0BOB', 'T1', 'fails', undefined],
  ['a failed lookup of the current step\'s group is an error', stepped([steppedReview('U0BOB', 'approve', 0)]), 'U0DAVE', 'T1', 'fails', 'error'],
];

describe('who may decide on a request approved in steps', () => {
  it.each(stepRules)('%s', async (_story, r, userId, teamId, directory, expected) => {
    if (expected === 'error') {
      await expect(click(r, userId, directory, teamId)).rejects.toBe(GROUP_DOWN);
    } else {
      expect((await click(r, userId, directory, teamId)).refusal).toEqual(expected);
    }
  });

  it("looks up every step's groups, as the step asked may move on before the lock", async () => {
    expect((await click(stepped(), 'U0BOB', 'answers')).lookedUp).toEqual(['S0PLATFORM']);
    expect((await click(stepped(), 'U0ALICE', 'answers')).lookedUp).toEqual([]);
  });
});

describe('the sentence each refusal is shown as in Slack', () => {
  it.each<[DecisionRefusal, string]>([
    [{ code: 'no_such_request' }, 'That request no longer exists.'],
    [{ code: 'closed', status: 'applied' }, 'This request is already applied; nothing changed.'],
    [{ code: 'other_workspace' }, 'This request belongs to another Slack workspace; your decision was not counted.'],
    [{ code: 'own_request' }, 'This is your own request, so you cannot approve or deny it: someone else has to. Nothing was recorded.'],
    [
      { code: 'not_an_approver', environment: 'prod', key: 'STRIPE_KEY', approvers: ['U0BOB', 'S0PLATFORM', 'W0ENTERPRISE'] },
      'You are not an approver for prod/STRIPE_KEY, so your decision was not counted. Approvers: <@U0BOB>, <!subteam^S0PLATFORM>, <@W0ENTERPRISE>.',
    ],
    [{ code: 'already_decided', decision: 'approve' }, 'You already approved this request; one person counts once.'],
    [{ code: 'already_decided', decision: 'deny' }, 'You already denied this request; one person counts once.'],
    [
      { code: 'already_decided', decision: 'approve', step: { number: 1, name: 'team <lead>' } },
      'You already approved this request in step 1 ("team &lt;lead&gt;"); one person counts in one step only, so someone else has to decide the later steps. Nothing was recorded.',
    ],
    [
      { code: 'not_this_step', yours: { number: 2, name: 'security' }, current: { number: 1, name: 'team lead' } },
      'It is step 1 ("team lead")\'s turn: step 2 ("security") is asked once step 1 ("team lead") is complete, and keyturn will send you the request then. Nothing was recorded.',
    ],
    [
      { code: 'not_this_step', yours: { number: 1, name: 'team lead' }, current: { number: 2, name: 'security' } },
      'Step 1 ("team lead") is already complete; it is now step 2 ("security")\'s turn, and you are not one of its approvers. Nothing was recorded.',
    ],
    [{ code: 'bad_comment', problem: 'The reason has a control character; remove it.' }, 'The reason has a control character; remove it.'],
  ])('%j', (refusal, sentence) => {
    expect(decisionRefusalText(refusal)).toBe(sentence);
  });
});
