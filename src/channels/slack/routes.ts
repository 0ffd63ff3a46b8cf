// Slack's HTTP surface:
//   POST /api/channels/slack/events          Events API (signed; url_verification; acked at once)
//   POST /api/channels/slack/interactivity   Block Kit button clicks (signed, form-encoded `payload`)
//   GET  /api/channels/slack/install         an admin starts the OAuth v2 install (302 to Slack)
//   GET  /api/channels/slack/oauth/callback  Slack sends the admin's browser back here with a code
//   GET  /api/channels/slack/installations   the tenant's installation (admin)
//   DELETE /api/channels/slack/installations/{id}
// Webhooks answer Slack within its 3 seconds: the reply is produced after the acknowledgement.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { config } from '../../config.js';
import { badRequest, isAppError } from '../../errors.js';
import type { AppEnv } from '../../http/env.js';
import { clientMeta, requireAuth } from '../../http/middleware.js';
import { jsonRoute, router, UuidParam, z } from '../../http/openapi.js';
import { intakeSlackEvent } from './events.js';
import { completeSlackInstall, listSlackInstallations, OAUTH_COOKIE, removeSlackInstallation, startSlackInstall } from './installations.js';
import { intakeSlackInteraction } from './interactivity.js';
import { verifySlackRequest } from './signature.js';

export const slackRoutes = router();

async function verifiedBody(c: Context<AppEnv>): Promise<string> {
  const raw = await c.req.text();
  verifySlackRequest(config().SLACK_SIGNING_SECRET, { timestamp: c.req.header('x-slack-request-timestamp'), signature: c.req.header('x-slack-signature') }, raw);
  return raw;
}

slackRoutes.post('/api/channels/slack/events', async (c) => {
  const raw = await verifiedBody(c);
  let body: { type?: string; challenge?: unknown };
  try {
    body = JSON.parse(raw);
  } catch {
    throw badRequest('invalid_json', 'The request body is not valid JSON.');
  }
  if (body.type === 'url_verification') {
    if (typeof body.challenge !== 'string' || body.challenge.length > 500) throw badRequest('invalid_challenge', 'The url_verification challenge is missing.');
    return c.json({ challenge: body.challenge });
  }
  if (body.type === 'event_callback') await intakeSlackEvent(body, { retryNum: c.req.header('x-slack-retry-num') });
  return c.body(null, 200);
});

slackRoutes.post('/api/channels/slack/interactivity', async (c) => {
  const raw = await verifiedBody(c);
  let payload: unknown;
  try {
    payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '');
  } catch {
    throw badRequest('invalid_payload', 'The interaction payload is missing or not JSON.');
  }
  await intakeSlackInteraction(payload);
  return c.body(null, 200);
});

slackRoutes.use('/api/channels/slack/install', requireAuth);
slackRoutes.get('/api/channels/slack/install', (c) => {
  const { url, nonce, maxAgeSeconds } = startSlackInstall({ ...c.get('auth'), ...clientMeta(c) });
  setCookie(c, OAUTH_COOKIE, nonce, { path: '/api/channels/slack/oauth', httpOnly: true, sameSite: 'Lax', secure: config().COOKIE_SECURE, maxAge: maxAgeSeconds });
  return c.redirect(url, 302);
});

const page = (title: string, message: string) =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem"><h1>${title}</h1><p>${message}</p><p><a href="/">Back to FlowSpark</a></p></body></html>`;

slackRoutes.get('/api/channels/slack/oauth/callback', async (c) => {
  const q = c.req.query();
  const cookieNonce = getCookie(c, OAUTH_COOKIE);
  deleteCookie(c, OAUTH_COOKIE, { path: '/api/channels/slack/oauth' });
  try {
    const installation = await completeSlackInstall({ code: q.code, state: q.state, error: q.error, cookieNonce }, clientMeta(c));
    return c.html(page('Slack is connected', `FlowSpark is installed in the ${installation.teamName ?? installation.teamId} workspace. Mention @FlowSpark in a channel or send it a direct message.`), 200);
  } catch (err) {
    if (!isAppError(err)) throw err;
    c.header('x-error-code', err.code);
    return c.html(page('Slack was not connected', err.message), err.status);
  }
});

const Installation = z.object({
  id: z.string(),
  teamId: z.string(),
  teamName: z.string().nullable(),
  botUserId: z.string(),
  scopes: z.array(z.string()),
  installedById: z.string().nullable(),
  createdAt: z.coerce.date(),
  updatedAt: z.coerce.date(),
});

slackRoutes.use('/api/channels/slack/installations', requireAuth);
slackRoutes.use('/api/channels/slack/installations/*', requireAuth);

slackRoutes.openapi(
  jsonRoute({ method: 'get', path: '/api/channels/slack/installations', tags: ['channels'], summary: 'The Slack workspaces connected to the team (admin)', response: z.object({ installations: z.array(Installation) }) }),
  async (c) => c.json({ installations: await listSlackInstallations(c.get('auth')) } as never, 200),
);

slackRoutes.openapi(
  jsonRoute({ method: 'delete', path: '/api/channels/slack/installations/{id}', tags: ['channels'], summary: 'Disconnect a Slack workspace (admin)', request: { params: UuidParam }, response: z.object({ deleted: z.boolean() }) }),
  async (c) => {
    await removeSlackInstallation({ ...c.get('auth'), ...clientMeta(c) }, c.req.valid('param').id);
    return c.json({ deleted: true }, 200);
  },
);
