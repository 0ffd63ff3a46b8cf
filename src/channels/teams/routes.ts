// Microsoft Teams' HTTP surface:
//   POST /api/channels/teams/messages                    Bot Framework messaging endpoint (JWT-verified)
//   GET  /api/channels/teams/registrations               the team's Entra tenant connections (admin)
//   POST /api/channels/teams/registrations               connect an Entra tenant id (admin)
//   DELETE /api/channels/teams/registrations/{id}
// The messaging endpoint acknowledges at once; replies go out through the activity's serviceUrl.
import { Activity } from '@microsoft/agents-activity';
import { badRequest } from '../../errors.js';
import { clientMeta, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonRoute, router, UuidParam, z } from '../../http/openapi.js';
import { intakeTeamsActivity } from './activities.js';
import { verifyBotFrameworkRequest } from './jwt.js';
import { listTeamsRegistrations, registerTeamsTenant, removeTeamsRegistration } from './registrations.js';

export const teamsRoutes = router();

teamsRoutes.post('/api/channels/teams/messages', async (c) => {
  let body: { serviceUrl?: unknown; channelId?: unknown } | null;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    body = null;
  }
  // The token first: nothing of an unauthenticated request is looked at beyond what the check needs.
  await verifyBotFrameworkRequest(c.req.header('authorization'), {
    serviceUrl: typeof body?.serviceUrl === 'string' ? body.serviceUrl : undefined,
    channelId: typeof body?.channelId === 'string' ? body.channelId : undefined,
  });
  let activity: Activity;
  try {
    activity = Activity.fromObject(body ?? {});
  } catch {
    throw badRequest('invalid_activity', 'The body is not a Bot Framework activity.');
  }
  await intakeTeamsActivity(activity);
  return c.body(null, 200);
});

const Registration = z.object({ id: z.string(), entraTenantId: z.string(), createdById: z.string().nullable(), createdAt: z.coerce.date() });

teamsRoutes.use('/api/channels/teams/registrations', requireAuth);
teamsRoutes.use('/api/channels/teams/registrations/*', requireAuth);

teamsRoutes.openapi(
  jsonRoute({ method: 'get', path: '/api/channels/teams/registrations', tags: ['channels'], summary: 'The Microsoft Entra tenants connected to the team (admin)', response: z.object({ registrations: z.array(Registration) }) }),
  async (c) => c.json({ registrations: await listTeamsRegistrations(c.get('auth')) } as never, 200),
);

teamsRoutes.openapi(
  jsonRoute({
    method: 'post',
    path: '/api/channels/teams/registrations',
    tags: ['channels'],
    summary: 'Connect a Microsoft Entra tenant: its Teams users reach this team’s agent (admin)',
    request: jsonBody(z.object({ entraTenantId: z.string().uuid().describe('The Entra (Azure AD) tenant id, a GUID') })),
    response: Registration,
    status: 201,
  }),
  async (c) => c.json((await registerTeamsTenant({ ...c.get('auth'), ...clientMeta(c) }, c.req.valid('json').entraTenantId)) as never, 201),
);

teamsRoutes.openapi(
  jsonRoute({ method: 'delete', path: '/api/channels/teams/registrations/{id}', tags: ['channels'], summary: 'Disconnect a Microsoft Entra tenant (admin)', request: { params: UuidParam }, response: z.object({ deleted: z.boolean() }) }),
  async (c) => {
    await removeTeamsRegistration({ ...c.get('auth'), ...clientMeta(c) }, c.req.valid('param').id);
    return c.json({ deleted: true }, 200);
  },
);
