// The widget's server side, in-process: token exchange (API key → short-lived widget token, users
// created on first use only when the team allows it), what a widget token may do, the admin settings,
// origin checks and CORS on HTTP, the public branding endpoint, and /widget.js with its size budget.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildWidgetBundle } from '../../src/channels/widget/bundle.js';
import { call, signupTeam, uniqueEmail, useTestApp, type Team } from '../support/harness.js';
import { rows } from './support.js';

useTestApp();

const SITE = 'https://shop.example.test';
const EVIL = 'https://evil.example.test';

async function apiKey(team: Team, scopes: string[] = ['chat']): Promise<{ key: string; id: string }> {
  const r = await call('POST', '/api/api-keys', { token: team.token, json: { name: 'site server', scopes } });
  expect(r.status).toBe(201);
  return { key: r.body.key, id: r.body.apiKey.id };
}

async function settings(team: Team, json: { allowedOrigins?: string[]; autoCreateUsers?: boolean }) {
  const r = await call('PUT', '/api/widget/settings', { token: team.token, json });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const mint = (key: string, json: Record<string, unknown>) => call('POST', '/api/widget/token', { token: key, json });

async function widgetUser(opts: { origins?: string[] } = {}) {
  const team = await signupTeam();
  await settings(team, { allowedOrigins: opts.origins ?? [SITE], autoCreateUsers: true });
  const { key, id } = await apiKey(team);
  const email = uniqueEmail('visitor');
  const r = await mint(key, { email, firstName: 'Vera' });
  expect(r.status).toBe(201);
  return { team, key, keyId: id, email, token: r.body.token as string, userId: r.body.user.id as string };
}

describe('POST /api/widget/token', () => {
  it('trades an API key for a short-lived token for an existing user, stored hashed', async () => {
    const team = await signupTeam();
    const { key } = await apiKey(team, ['write']);
    const before = Date.now();
    const r = await mint(key, { email: team.email.toUpperCase() });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ token: expect.stringMatching(/^fsw_/), user: { id: team.userId, email: team.email, role: 'owner' }, created: false });
    const expires = new Date(r.body.expiresAt).getTime();
    expect(expires - before).toBeGreaterThan(3590_000);
    expect(expires - before).toBeLessThan(3610_000);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const stored = await rows<{ id: string }>('SELECT id FROM channels_widget_token WHERE tenant_id = :t', { t: team.tenantId });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).not.toContain(r.body.token.slice(4));
    expect(stored[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    const audit = await rows<{ action: string }>(`SELECT action FROM audit_log WHERE tenant_id = :t AND action LIKE 'widget.%'`, { t: team.tenantId });
    expect(audit.map((a) => a.action)).toEqual(['widget.token_issued']);
  });

  it('refuses an unknown email with widget_user_unknown unless the team auto-creates users, and then creates a member once', async () => {
    const team = await signupTeam();
    const { key } = await apiKey(team);
    const email = uniqueEmail('newcomer');
    const refused = await mint(key, { email });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('widget_user_unknown');
    expect(await rows('SELECT id FROM core_user WHERE tenant_id = :t AND email = :email', { t: team.tenantId, email })).toEqual([]);

    await settings(team, { autoCreateUsers: true });
    const first = await mint(key, { email, firstName: 'Nia', lastName: 'Okafor' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ created: true, user: { email, firstName: 'Nia', lastName: 'Okafor', role: 'member' } });
    const again = await mint(key, { email });
    expect(again.body).toMatchObject({ created: false, user: { id: first.body.user.id } });
    const users = await rows<{ role: string }>('SELECT role FROM core_user WHERE tenant_id = :t AND email = :email', { t: team.tenantId, email });
    expect(users).toEqual([{ role: 'member' }]);
  });

  it('needs an API key with the chat or write scope, and valid input', async () => {
    const team = await signupTeam();
    const session = await mint(team.token, { email: team.email });
    expect(session.status).toBe(403);
    expect(session.body.error.code).toBe('api_key_required');
    const readOnly = await apiKey(team, ['read']);
    expect((await mint(readOnly.key, { email: team.email })).status).toBe(403);
    expect((await call('POST', '/api/widget/token', { json: { email: team.email } })).status).toBe(401);
    const { key } = await apiKey(team);
    for (const bad of [{}, { email: 'not-an-email' }, { email: team.email, role: 'owner' }, { email: team.email, tenantId: crypto.randomUUID() }]) {
      const r = await mint(key, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
    }
  });

  it('never crosses tenants: an email of another team is unknown here, and auto-create makes a separate user', async () => {
    const a = await signupTeam();
    const b = await signupTeam();
    const { key } = await apiKey(b);
    expect((await mint(key, { email: a.email })).body.error.code).toBe('widget_user_unknown');
    await settings(b, { autoCreateUsers: true });
    const r = await mint(key, { email: a.email });
    expect(r.body.user.id).not.toBe(a.userId);
    const widget = r.body.token as string;
    const conversations = await call('GET', '/api/conversations', { token: widget });
    expect(conversations.status).toBe(200);
    const me = await call('GET', '/api/me', { token: widget });
    expect(me.body.tenant.id).toBe(b.tenantId);
  });

  it('refuses an inactive user, and stops working when the user is deactivated, the key revoked or the token expired', async () => {
    const w = await widgetUser();
    expect((await call('GET', '/api/conversations', { token: w.token })).status).toBe(200);

    await rows('UPDATE channels_widget_token SET expires_at = NOW() - INTERVAL \'1 minute\' WHERE user_id = :u', { u: w.userId });
    expect((await call('GET', '/api/conversations', { token: w.token })).body.error.code).toBe('invalid_token');

    const fresh = (await mint(w.key, { email: w.email })).body.token as string;
    expect((await call('GET', '/api/conversations', { token: fresh })).status).toBe(200);
    expect((await call('DELETE', `/api/api-keys/${w.keyId}`, { token: w.team.token })).status).toBe(200);
    expect((await call('GET', '/api/conversations', { token: fresh })).status).toBe(401);

    const { key } = await apiKey(w.team);
    const third = (await mint(key, { email: w.email })).body.token as string;
    expect((await call('DELETE', `/api/users/${w.userId}`, { token: w.team.token })).status).toBe(200);
    expect((await call('GET', '/api/conversations', { token: third })).status).toBe(401);
    const inactive = await mint(key, { email: w.email });
    expect(inactive.status).toBe(403);
    expect(inactive.body.error.code).toBe('user_inactive');
  });

  it('gives the chat scope only: the token chats and reads its conversations but cannot administer, even for an owner', async () => {
    const team = await signupTeam();
    const { key } = await apiKey(team);
    const token = (await mint(key, { email: team.email })).body.token as string;
    const chat = await call('POST', '/api/chat', { token, json: { message: 'remember that my favourite colour is green' } });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('content-type')).toContain('text/event-stream');
    expect(String(chat.body)).toContain('"output":{"key":"colour","value":"green"');
    expect(String(chat.body)).toContain('"type":"finish"');
    const list = await call('GET', '/api/conversations', { token });
    expect(list.body.conversations).toHaveLength(1);
    for (const [method, path, json] of [
      ['POST', '/api/api-keys', { name: 'x', scopes: ['admin'] }],
      ['GET', '/api/widget/settings', undefined],
      ['PUT', '/api/widget/settings', { autoCreateUsers: true }],
      ['POST', '/api/users', { email: uniqueEmail(), role: 'member' }],
      ['POST', '/api/widget/token', { email: team.email }],
    ] as const) {
      const r = await call(method, path, { token, json });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
  });

  it('caps the token user’s role at the role of the API key’s owner', async () => {
    const team = await signupTeam();
    const member = await call('POST', '/api/users', { token: team.token, json: { email: uniqueEmail('m'), role: 'member' } });
    const { key } = await apiKey(team);
    // Re-own the key to the member, as if a member had created it for their integration.
    await rows('UPDATE auth_api_key SET user_id = :u WHERE tenant_id = :t', { u: member.body.id, t: team.tenantId });
    const token = (await mint(key, { email: team.email })).body.token as string;
    const me = await call('GET', '/api/me', { token });
    expect(me.body.user.role).toBe('owner');
    const { toolsFor } = await import('../../src/tools/index.js');
    const { authenticateToken } = await import('../../src/auth/authenticate.js');
    const auth = await authenticateToken(token);
    expect(auth).toMatchObject({ userId: team.userId, role: 'member', scopes: ['chat'] });
    expect(toolsFor(auth!).length).toBeGreaterThan(0);
  });
});

describe('widget settings', () => {
  it('are read and changed by admins only, normalised, validated and audited', async () => {
    const team = await signupTeam();
    expect((await call('GET', '/api/widget/settings', { token: team.token })).body).toMatchObject({ allowedOrigins: [], autoCreateUsers: false, updatedAt: null });
    const saved = await settings(team, { allowedOrigins: ['https://Shop.Example.test/', 'http://localhost:8080', 'https://shop.example.test'] });
    expect(saved).toMatchObject({ allowedOrigins: ['https://shop.example.test', 'http://localhost:8080'], autoCreateUsers: false });
    expect((await settings(team, { autoCreateUsers: true })).allowedOrigins).toEqual(['https://shop.example.test', 'http://localhost:8080']);

    for (const origin of ['javascript:alert(1)', 'https://shop.example.test/path', 'ftp://files.test', 'null', '*', 'https://user:pw@x.test']) {
      const r = await call('PUT', '/api/widget/settings', { token: team.token, json: { allowedOrigins: [origin] } });
      expect(r.status, origin).toBe(400);
      expect(r.body.error.code).toBe('invalid_origin');
    }
    expect((await call('PUT', '/api/widget/settings', { token: team.token, json: { allowedOrigins: 'x' } })).body.error.code).toBe('validation_error');
    expect((await call('GET', '/api/widget/settings', { token: team.token })).body.allowedOrigins).toEqual(['https://shop.example.test', 'http://localhost:8080']);

    const member = await call('POST', '/api/users', { token: team.token, json: { email: uniqueEmail('m'), role: 'manager', password: 'Correct-Horse-Battery-9' } });
    const login = await call('POST', '/api/auth/login', { json: { email: member.body.email, password: 'Correct-Horse-Battery-9' } });
    expect((await call('PUT', '/api/widget/settings', { token: login.body.token, json: { autoCreateUsers: false } })).status).toBe(403);
    expect((await call('GET', '/api/widget/settings', { token: login.body.token })).status).toBe(403);

    const other = await signupTeam();
    expect((await call('GET', '/api/widget/settings', { token: other.token })).body.allowedOrigins).toEqual([]);
    const audit = await rows<{ action: string }>(`SELECT action FROM audit_log WHERE tenant_id = :t AND action = 'widget.settings_updated'`, { t: team.tenantId });
    expect(audit).toHaveLength(2);
  });
});

describe('origins and CORS on HTTP', () => {
  it('refuses a widget token from an origin its team does not allow, and answers allowed ones with CORS', async () => {
    const w = await widgetUser();
    const refused = await call('GET', '/api/conversations', { token: w.token, headers: { origin: EVIL } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('origin_not_allowed');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const chat = await call('POST', '/api/chat', { token: w.token, headers: { origin: EVIL }, json: { message: 'hello' } });
    expect(chat.body.error.code).toBe('origin_not_allowed');
    expect(await rows('SELECT id FROM agents_conversation WHERE user_id = :u', { u: w.userId })).toEqual([]);

    const ok = await call('GET', '/api/conversations', { token: w.token, headers: { origin: SITE } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ok.headers.get('access-control-expose-headers')).toContain('x-conversation-id');
    const stream = await call('POST', '/api/chat', { token: w.token, headers: { origin: SITE }, json: { message: 'hello' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(stream.headers.get('x-conversation-id')).toMatch(/^[0-9a-f-]{36}$/);

    // Another team's allowed origin does not help this token.
    const other = await widgetUser({ origins: ['https://other.example.test'] });
    expect((await call('GET', '/api/conversations', { token: w.token, headers: { origin: 'https://other.example.test' } })).body.error.code).toBe('origin_not_allowed');
    expect((await call('GET', '/api/conversations', { token: other.token, headers: { origin: SITE } })).body.error.code).toBe('origin_not_allowed');
  });

  it('lets a widget token work on the service’s own origin and from servers that send no Origin', async () => {
    const w = await widgetUser();
    expect((await call('GET', '/api/conversations', { token: w.token })).status).toBe(200);
    expect((await call('GET', 'http://flowspark.test/api/conversations', { token: w.token, headers: { origin: 'http://flowspark.test', host: 'flowspark.test' } })).status).toBe(200);
  });

  it('answers preflights for origins some team allows, and refuses the rest', async () => {
    const origin = `https://preflight-${crypto.randomUUID().slice(0, 8)}.example.test`;
    const preflight = (o: string, path = '/api/chat') =>
      call('OPTIONS', path, { headers: { origin: o, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const before = await preflight(origin);
    expect(before.status).toBe(403);
    expect(before.headers.get('access-control-allow-origin')).toBeNull();
    await widgetUser({ origins: [origin] });
    for (const path of ['/api/chat', '/api/chat/abc/stream', '/api/conversations', '/api/conversations/abc/messages', '/api/widget/config']) {
      const r = await preflight(origin, path);
      expect(r.status, path).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(r.headers.get('access-control-allow-methods')).toContain('POST');
    }
  });

  it('lets an allowed page read the 401 of an expired token so it can fetch a new one', async () => {
    const w = await widgetUser();
    await rows('UPDATE channels_widget_token SET expires_at = NOW() - INTERVAL \'1 minute\' WHERE user_id = :u', { u: w.userId });
    const r = await call('GET', '/api/conversations', { token: w.token, headers: { origin: SITE } });
    expect(r.status).toBe(401);
    expect(r.headers.get('access-control-allow-origin')).toBe(SITE);
  });
});

describe('GET /api/widget/config', () => {
  it('returns the tenant’s branding only, publicly, for any origin', async () => {
    const team = await signupTeam('Branding Co');
    await rows(`UPDATE core_tenant SET logo_url = 'https://cdn.example.test/logo.png', primary_color = '#7B1FA2' WHERE id = :t`, { t: team.tenantId });
    const r = await call('GET', `/api/widget/config?tenant=${team.slug}`, { headers: { origin: EVIL } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: 'Branding Co', slug: team.slug, logoUrl: 'https://cdn.example.test/logo.png', primaryColor: '#7B1FA2' });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('cache-control')).toContain('max-age');
  });

  it('drops unsafe logos and colours, and answers 404 for unknown or suspended teams', async () => {
    const team = await signupTeam();
    await rows(`UPDATE core_tenant SET logo_url = 'javascript:alert(1)', primary_color = 'red;x' WHERE id = :t`, { t: team.tenantId });
    expect((await call('GET', `/api/widget/config?tenant=${team.slug}`)).body).toMatchObject({ logoUrl: null, primaryColor: '#0066CC' });
    expect((await call('GET', '/api/widget/config?tenant=no-such-team-here')).body.error.code).toBe('tenant_not_found');
    expect((await call('GET', '/api/widget/config')).status).toBe(400);
    await rows(`UPDATE core_tenant SET status = 'suspended' WHERE id = :t`, { t: team.tenantId });
    expect((await call('GET', `/api/widget/config?tenant=${team.slug}`)).status).toBe(404);
  });
});

describe('/widget.js', () => {
  it('stays within the 60 KB gzip budget, Socket.IO client included', async () => {
    const bundle = await buildWidgetBundle();
    const gz = gzipSync(bundle.code, { level: 9 }).length;
    console.log(`[widget] widget.js: ${(bundle.code.length / 1024).toFixed(1)} KB minified, ${(gz / 1024).toFixed(1)} KB gzipped (budget 60 KB)`);
    expect(gz).toBeLessThanOrEqual(60 * 1024);
    const text = bundle.code.toString('utf8');
    expect(text).toContain('/socket.io');
    expect(text).not.toMatch(/\.innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write/);
  });

  it('is served with caching headers, gzip on request, and 304 on a matching ETag', async () => {
    const res = await call('GET', '/widget.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await call('GET', '/widget.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('the demo page', () => {
  it('is served at / with a strict script policy, and loads the widget', async () => {
    const page = await call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(String(page.body)).toContain('<script src="/widget.js"></script>');
    expect((await call('GET', '/demo.js')).status).toBe(200);
  });
});
