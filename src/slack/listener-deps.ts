import type { AccessService } from '../domain/access/access-requests.js';
import type { InsightService } from '../domain/insights/insight-service.js';
import type { LoginService } from '../domain/logins/login-service.js';
import type { RequestCanceller } from '../domain/requests/request-cancel.js';
import type { RequestService } from '../domain/requests/request-service.js';
import type { BreakGlassReviews } from '../domain/requests/break-glass.js';
import type { RotationService } from '../domain/rotation/rotation-service.js';
import type { Logger } from '../logger.js';
import type { AppHome } from './app-home.js';
import type { DirectMessages } from './reply.js';

/** What Slack listeners may use: domain services only; no SQL, crypto or policy logic. */
export interface ListenerDeps {
  requests: RequestService;
  environments(): string[];
  /** The environments whose policy has `break_glass` (the request modal offers the emergency box there). */
  breakGlassEnvironments?(): string[];
  /** Acknowledge / Flag on break-glass alerts; absent when there is nothing to review with. */
  breakGlass?: Pick<BreakGlassReviews, 'review' | 'toReview'>;
  logger: Logger;
  /** Draws a user's App Home; absent when there is nothing to draw it with. */
  home?: AppHome;
  /** Answers for `/secret list|history|status|audit`. */
  insights: InsightService;
  /** `/secret cancel`: the requester takes back a pending request. */
  cancelRequest: RequestCanceller['cancelRequest'];
  /** Snoozes from rotation reminders' buttons; absent when there is nothing to snooze with. */
  rotation?: Pick<RotationService, 'snooze'>;
  /** Just-in-time access: `/secret access` and the Revoke button; absent when there is nothing to grant with. */
  access?: Pick<AccessService, 'problemsWith' | 'requestAccess' | 'revoke' | 'liveGrants' | 'revocableEnvironments'>;
  /** `/secret login CODE`: confirms a `keyturn login` as the person who sent it. */
  logins?: Pick<LoginService, 'confirm'>;
  /** Replies to a submission go to the person as DMs through the outbox. */
  dms: DirectMessages;
}

/** The clicking or submitting user, from any interactive payload. */
export function clickerOf(body: { user: { id: string; team_id?: string }; team?: { id: string } | null }) {
  return { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? '' };
}

/** The channel a click came from, where it is answered ephemerally; none in App Home or a modal. */
export function clickedIn(body: { channel?: { id: string }; container?: { channel_id?: string } }): string | undefined {
  return body.channel?.id ?? body.container?.channel_id;
}
