// The widget's HTTP surface:
//   GET  /widget.js              the client bundle (one script tag on any page)
//   GET  /api/widget/config      public branding of a tenant (?tenant=slug)
//   POST /api/widget/token       the tenant's server trades its API key for a user's widget token
//   GET  /api/widget/settings    allowed origins, auto-create users (admins)
//   PUT  /api/widget/settings
import { requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonRoute, router, z } from '../../http/openapi.js';
import { getWidgetBranding } from './branding.js';
import { widgetBundle } from './bundle.js';
import { getWidgetSettings, updateWidgetSettings } from './settings.js';
import { issueWidgetToken } from './tokens.js';

const Branding = z.object({ name: z.string(), slug: z.string(), logoUrl: z.string().nullable(), primaryColor: z.string() }).openapi('WidgetBranding');
const Settings = z
  .object({ allowedOrigins: z.array(z.string()), autoCreateUsers: z.boolean(), updatedAt: z.date().nullable() })
  .openapi('WidgetSettings');
const SettingsBody = z
  .object({
    allowedOrigins: z.array(z.string().min(1).max(300)).max(100).optional().describe('Page origins the widget may run on, e.g. https://shop.example.com'),
    autoCreateUsers: z.boolean().optional().describe('Create an unknown email as a member on its first widget token'),
  })
  .strict();
const TokenBody = z
  .object({
    email: z.string().trim().toLowerCase().email().max(255),
    firstName: z.string().trim().min(1).max(150).optional(),
    lastName: z.string().trim().min(1).max(150).optional(),
  })
  .strict();
const TokenResponse = z
  .object({
    token: z.string(),
    expiresAt: z.date(),
    user: z.object({ id: z.string().uuid(), email: z.string(), firstName: z.string().nullable(), lastName: z.string().nullable(), role: z.string() }),
    created: z.boolean(),
  })
  .openapi('WidgetToken');

export const widgetRoutes = router();
widgetRoutes.use('/api/widget/token', requireAuth);
widgetRoutes.use('/api/widget/settings', requireAuth);

widgetRoutes.get('/widget.js', async (c) => {
  const bundle = await widgetBundle();
  c.header('Content-Type', 'text/javascript; charset=utf-8');
  c.header('Cache-Control', 'public, max-age=300, stale-while-revalidate=86400');
  c.header('ETag', bundle.etag);
  c.header('Vary', 'Accept-Encoding');
  c.header('Access-Control-Allow-Origin', '*');
  if (c.req.header('if-none-match') === bundle.etag) return c.body(null, 304);
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(bundle.gzip), 200);
  }
  return c.body(new Uint8Array(bundle.code), 200);
});

widgetRoutes
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/widget/config',
      tags: ['widget'],
      summary: 'A tenant’s widget branding (public)',
      public: true,
      request: { query: z.object({ tenant: z.string().min(1).max(100) }) },
      response: Branding,
    }),
    async (c) => {
      c.header('Access-Control-Allow-Origin', '*');
      c.header('Cache-Control', 'public, max-age=300');
      return c.json((await getWidgetBranding(c.req.valid('query').tenant)) as never, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/widget/token',
      tags: ['widget'],
      summary: 'Mint a short-lived widget token for one of your users (API key with chat or write scope)',
      description: 'Call it from your server; hand the token to the widget (`data-token` or `FlowSpark.init({ token })`). Unknown emails are created as members when the team allows it, refused with `widget_user_unknown` otherwise.',
      request: jsonBody(TokenBody),
      response: TokenResponse,
      status: 201,
    }),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json((await issueWidgetToken(c.get('auth'), c.req.valid('json'))) as never, 201);
    },
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/widget/settings', tags: ['widget'], summary: 'The widget settings (owners and admins)', response: Settings }),
    async (c) => c.json((await getWidgetSettings(c.get('auth'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'put', path: '/api/widget/settings', tags: ['widget'], summary: 'Change the widget settings (owners and admins)', request: jsonBody(SettingsBody), response: Settings }),
    async (c) => c.json((await updateWidgetSettings(c.get('auth'), c.req.valid('json'))) as never, 200),
  );
