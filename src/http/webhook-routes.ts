import { notFound } from '../errors.js';
import type { Webhooks } from '../pushes/webhooks.js';
import type { Route } from './router.js';

/** `POST /v1/webhooks/:name/test` (admin token): sends one signed `ping` now and answers what the receiver said. */
export function webhookRoutes(webhooks: Pick<Webhooks, 'test'>): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/webhooks/:name/test',
      auth: 'admin',
      async handle({ params, principal }) {
        const result = await webhooks.test(params.name, `token:${principal.name}`);
        if (!result) throw notFound(`No webhook named ${params.name} in the policy: the names are those under webhooks: in the policy file.`);
        return { status: 200, json: result };
      },
    },
  ];
}
