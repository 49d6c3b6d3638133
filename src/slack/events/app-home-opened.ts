import type { SlackRoutes } from '../routes.js';
import type { AppHome } from '../app-home.js';
import type { Logger } from '../../logger.js';
import { errorFacts } from '../../public-error.js';

export const APP_HOME_OPENED = 'app_home_opened';

/** Opening keyturn's Home tab redraws it from current state. */
export function registerAppHomeOpened(app: SlackRoutes, deps: { home?: AppHome; logger: Logger }) {
  app.event(APP_HOME_OPENED, async ({ event, body }) => {
    if (event.tab !== 'home' || !deps.home) return;
    const teamId = (body as { team_id?: string }).team_id ?? '';
    try {
      const { uncheckedGroups } = await deps.home.refresh({ userId: event.user, teamId });
      if (uncheckedGroups.length) deps.logger.warn({ user: event.user, groups: uncheckedGroups }, 'App Home drawn without the user groups Slack would not list');
    } catch (err) {
      // Nobody is waiting for an answer here: the log is the only reader.
      deps.logger.error({ user: event.user, ...errorFacts(err) }, 'could not draw App Home');
    }
  });
}
