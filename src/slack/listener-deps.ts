import type { RequestService } from '../domain/requests/request-service.js';
import type { Logger } from '../logger.js';

/** What Slack listeners may use: domain services only; no SQL, crypto or policy logic. */
export interface ListenerDeps {
  requests: RequestService;
  environments(): string[];
  logger: Logger;
}

/** The clicking or submitting user, from any interactive payload. */
export function clickerOf(body: { user: { id: string; team_id?: string }; team?: { id: string } | null }) {
  return { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? '' };
}
