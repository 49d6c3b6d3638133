import type { Queryable } from '../../db/client.js';
import type { ChangeRequest, RequestEvents } from '../../domain/requests/request-types.js';
import { isFinal } from '../../domain/requests/request-states.js';
import { renderApprovalMessage, renderBreakGlassAlert, renderBreakGlassEscalation, renderEscalation, renderReminder, renderRequesterOutcome, renderRequesterWaiting } from '../blocks/index.js';
import { enqueuePost, enqueueUpdate, messagesUnder } from '../outbox/outbox-writer.js';

const approverKey = (id: string, target: string) => `request:${id}:approvers:${target}`;
/** Every break-glass alert of a request (first alert and escalations) is stored under this prefix. */
const breakGlassPrefix = (id: string) => `break-glass:${id}:`;

/**
 * Shows requests in Slack through the outbox, in the transaction of the change: one approval
 * message per target (the policy's channel, or each approver's DM), a DM to the requester, every
 * approver copy redrawn in place (chat.update) on each change, and the outcome sent to the requester.
 */
export function createSlackNotifier(deps: { now?: () => Date; kick?: () => void }): RequestEvents {
  const now = deps.now ?? (() => new Date());
  return {
    async opened(tx: Queryable, r: ChangeRequest, approverTargets: readonly string[]) {
      const message = renderApprovalMessage(r, { now: now() });
      for (const target of approverTargets) await enqueuePost(tx, { target, key: approverKey(r.id, target), payload: message });
      if (r.requesterUserId) {
        await enqueuePost(tx, { target: r.requesterUserId, key: `request:${r.id}:requester`, payload: renderRequesterWaiting(r) });
      }
    },
    async changed(tx: Queryable, r: ChangeRequest) {
      const message = renderApprovalMessage(r, { now: now() });
      for (const m of await messagesUnder(tx, `request:${r.id}:approvers:`)) await enqueueUpdate(tx, { ...m, payload: message, now: now() });
      if (isFinal(r.status) && r.requesterUserId) {
        await enqueuePost(tx, { target: r.requesterUserId, key: `request:${r.id}:outcome`, payload: renderRequesterOutcome(r) });
      }
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
