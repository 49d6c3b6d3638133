import type { Queryable } from '../../db/client.js';
import type { ChangeRequest, RequestEvents } from '../../domain/requests/request-types.js';
import { isFinal } from '../../domain/requests/request-states.js';
import { currentStep } from '../../domain/requests/quorum.js';
import { type AccessEvents, type GrantView, grantOfRequest } from '../../domain/access/access-requests.js';
import {
  type RenderedMessage,
  renderAccessMessage,
  renderAccessRequesterOutcome,
  renderAccessRequesterWaiting,
  renderApprovalMessage,
  renderBreakGlassAlert,
  renderBreakGlassEscalation,
  renderEscalation,
  renderGrantEnded,
  renderReminder,
  renderRequesterOutcome,
  renderRequesterWaiting,
} from '../blocks/index.js';
import { enqueuePost, enqueueUpdate, messagesUnder } from '../outbox/outbox-writer.js';

const approverKey = (id: string, target: string) => `request:${id}:approvers:${target}`;
/** A later step's copy: still under the approvers' prefix, so it is redrawn with the others. */
const stepKey = (id: string, step: number, target: string) => `request:${id}:approvers:step${step + 1}:${target}`;
/** Every break-glass alert of a request (first alert and escalations) is stored under this prefix. */
const breakGlassPrefix = (id: string) => `break-glass:${id}:`;

/**
 * Shows requests in Slack through the outbox, in the transaction of the change: one approval
 * message per target (the policy's channel, or each approver's DM), a DM to the requester, every
 * approver copy redrawn in place (chat.update) on each change, and the outcome sent to the requester. A
 * request in steps is posted to each later step's targets when that step's turn comes.
 */
export function createSlackNotifier(deps: { now?: () => Date; kick?: () => void }): RequestEvents & AccessEvents {
  const now = deps.now ?? (() => new Date());
  /** An access request's grant, read in the transaction that changed it: its message shows until when. */
  const grantOf = async (tx: Queryable, r: ChangeRequest) => (r.operation === 'access' && r.status === 'applied' ? grantOfRequest(tx, r.id) : undefined);
  const approvalMessage = (r: ChangeRequest, grant: GrantView | undefined): RenderedMessage =>
    r.operation === 'access' ? renderAccessMessage(r, grant, { now: now() }) : renderApprovalMessage(r, { now: now() });
  const redraw = async (tx: Queryable, r: ChangeRequest, message: RenderedMessage) => {
    for (const m of await messagesUnder(tx, `request:${r.id}:approvers:`)) await enqueueUpdate(tx, { ...m, payload: message, now: now() });
  };
  return {
    async opened(tx: Queryable, r: ChangeRequest, approverTargets: readonly string[]) {
      const grant = await grantOf(tx, r);
      const message = approvalMessage(r, grant);
      for (const target of approverTargets) await enqueuePost(tx, { target, key: approverKey(r.id, target), payload: message });
      if (r.requesterUserId) {
        const payload = r.operation === 'access' ? renderAccessRequesterWaiting(r, grant) : renderRequesterWaiting(r);
        await enqueuePost(tx, { target: r.requesterUserId, key: `request:${r.id}:requester`, payload });
      }
    },
    async changed(tx: Queryable, r: ChangeRequest) {
      const grant = await grantOf(tx, r);
      await redraw(tx, r, approvalMessage(r, grant));
      if (isFinal(r.status) && r.requesterUserId) {
        const payload = r.operation === 'access' ? renderAccessRequesterOutcome(r, grant) : renderRequesterOutcome(r);
        await enqueuePost(tx, { target: r.requesterUserId, key: `request:${r.id}:outcome`, payload });
      }
    },
    async stepReached(tx: Queryable, r: ChangeRequest, targets: readonly string[]) {
      const step = currentStep(r);
      if (!step) return;
      const message = renderApprovalMessage(r, { now: now() });
      for (const target of targets) await enqueuePost(tx, { target, key: stepKey(r.id, step.index, target), payload: message });
      // The requester's "waiting" DM says which step is asked now: redrawn to the new one.
      if (r.requesterUserId) await enqueueUpdate(tx, { key: `request:${r.id}:requester`, payload: renderRequesterWaiting(r), now: now() });
    },
    /** A grant ended (by itself or revoked): every approver copy redrawn without its Revoke button; the grantee told. */
    async grantEnded(tx: Queryable, r: ChangeRequest, grant: GrantView) {
      await redraw(tx, r, renderAccessMessage(r, grant, { now: now() }));
      await enqueuePost(tx, { target: grant.userId, key: `request:${r.id}:grant-ended`, payload: renderGrantEnded(r, grant) });
    },
    async reminded(tx: Queryable, r: ChangeRequest, approvers: readonly string[]) {
      const stamp = now().toISOString();
      for (const user of approvers) await enqueuePost(tx, { target: user, key: `request:${r.id}:reminder:${user}:${stamp}`, payload: renderReminder(r) });
    },
    async escalated(tx: Queryable, r: ChangeRequest, targets: readonly string[]) {
      for (const target of targets) await enqueuePost(tx, { target, key: `request:${r.id}:escalation:${target}`, payload: renderEscalation(r) });
    },
    async brokeGlass(tx: Queryable, r: ChangeRequest, targets: readonly string[]) {
      const message = renderBreakGlassAlert(r, { now: now() });
      for (const target of targets) await enqueuePost(tx, { target, key: `${breakGlassPrefix(r.id)}alert:${target}`, payload: message });
    },
    async breakGlassReviewed(tx: Queryable, r: ChangeRequest) {
      const message = renderBreakGlassAlert(r, { now: now() });
      for (const m of await messagesUnder(tx, breakGlassPrefix(r.id))) await enqueueUpdate(tx, { ...m, payload: message, now: now() });
    },
    async breakGlassEscalated(tx: Queryable, r: ChangeRequest, targets: readonly string[]) {
      const message = renderBreakGlassEscalation(r, { now: now() });
      for (const target of targets) await enqueuePost(tx, { target, key: `${breakGlassPrefix(r.id)}escalation:${target}`, payload: message });
    },
    committed() {
      deps.kick?.();
    },
  };
}
