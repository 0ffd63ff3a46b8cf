// Sign-up, log-in, log-out, sessions (token + cookie, CSRF, expiry, sliding renewal), password and
// profile changes — through the HTTP API, checking what a user sees and what the database holds.
import { describe, expect, it } from 'vitest';
import { config } from '../../src/config.js';
import { useTestApp } from '../support/harness.js';
import { one, parseSetCookie, randomIp, randomSuffix, request, rows, sha256Hex, signupViaApi, STRONG_PASSWORD, uniqueEmail } from './helpers.js';

const t = useTestApp();
const DAY = 86_400_000;

const countUsersByEmail = async (email: string) =>
  Number((await one(t.db, `SELECT count(*)::int AS n FROM core_user WHERE email = :email`, { email }))!.n);

describe('sign-up', () => {
  it('creates the team, its owner, a session (JSON token + HttpOnly cookie), the free trial and its tokens, and an audit row', async () => {
    const ip = randomIp();
    const suffix = randomSuffix();
    const email = uniqueEmail('Founder');
    const res = await request('POST', '/api/auth/signup', {
      json: { tenantName: `  Ünïted Café & Co ${suffix} `, email, password: STRONG_PASSWORD, firstName: 'Ada' },
      ip,
      userAgent: 'signup-agent/2.0',
    });
    expect(res.status).toBe(201);
    const { token, tenant, user } = res.body;
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(tenant.slug).toBe(`united-cafe-co-${suffix}`);
    expect(tenant.name).toBe(`Ünïted Café & Co ${suffix}`);
    expect(user.role).toBe('owner');
    expect(user.email).toBe(email.toLowerCase());
    expect(user).not.toHaveProperty('passwordHash');
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * DAY);

    const cookie = parseSetCookie(res.headers.get('set-cookie'));
    expect(cookie?.name).toBe('fs_session');
    expect(cookie?.value).toBe(token);
    expect(cookie?.attributes.httponly).toBe(true);
    expect(cookie?.attributes.path).toBe('/');
    expect(String(cookie?.attributes.samesite).toLowerCase()).toBe('lax');

    // The token works, and only its SHA-256 is stored.
    const me = await request('GET', '/api/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
    const sessions = await rows(t.db, `SELECT id FROM auth_session WHERE user_id = :id`, { id: user.id });
    expect(sessions.map((s) => s.id)).toEqual([sha256Hex(token)]);

    const dbUser = await one(t.db, `SELECT password_hash, tenant_id, role FROM core_user WHERE id = :id`, { id: user.id });
    expect(dbUser!.password_hash).toMatch(/^\$argon2id\$/);
    expect(dbUser!.tenant_id).toBe(tenant.id);

    const sub = await one(
      t.db,
      `SELECT s.status, s.interval, s.trial_end, s.current_period_start, s.current_period_end, p.slug, p.included_tokens, p.max_users
         FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id WHERE s.tenant_id = :id`,
      { id: tenant.id },
    );
    expect(sub).toMatchObject({ status: 'trialing', interval: 'monthly', slug: 'free' });
    expect(Math.abs(new Date(sub!.trial_end).getTime() - (Date.now() + 14 * DAY))).toBeLessThan(120_000);
    expect(new Date(sub!.current_period_end).getTime()).toBeGreaterThan(new Date(sub!.current_period_start).getTime());
    expect(tenant.tier).toBe('free');
    expect(tenant.maxUsers).toBe(sub!.max_users);

    const balance = await one(t.db, `SELECT balance FROM billing_token_balance WHERE tenant_id = :id`, { id: tenant.id });
    const ledger = await rows(t.db, `SELECT amount, operation, balance_after FROM billing_token_transaction WHERE tenant_id = :id`, { id: tenant.id });
    expect(sub!.included_tokens).toBeGreaterThan(0);
    expect(balance!.balance).toBe(sub!.included_tokens);
    expect(ledger).toEqual([{ amount: sub!.included_tokens, operation: 'included_tokens', balance_after: balance!.balance }]);

    const audit = await rows(t.db, `SELECT action, user_id, resource_id, host(ip_address) AS ip, user_agent FROM audit_log WHERE tenant_id = :id`, { id: tenant.id });
    expect(audit).toContainEqual({ action: 'tenant.signed_up', user_id: user.id, resource_id: tenant.id, ip, user_agent: 'signup-agent/2.0' });
  });

  it('gives teams with the same name distinct slugs', async () => {
    const name = `Acme ${randomSuffix()}`;
    const a = await signupViaApi({ tenantName: name });
    const b = await signupViaApi({ tenantName: name });
    expect(a.slug).toBe(name.toLowerCase().replace(' ', '-'));
    expect(b.slug).not.toBe(a.slug);
    expect(b.slug.startsWith(`${a.slug}-`)).toBe(true);
  });

  it('refuses malformed JSON with 400 invalid_json and stores nothing', async () => {
    const email = uniqueEmail('badjson');
    const res = await request('POST', '/api/auth/signup', {
      body: `{"tenantName":"X","email":"${email}","password":`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
    expect(typeof res.body.error.message).toBe('string');
    expect(await countUsersByEmail(email)).toBe(0);
  });

  it('refuses a body that is not JSON with 415 and a JSON array with 400', async () => {
    const email = uniqueEmail('plain');
    const body = JSON.stringify({ tenantName: 'X', email, password: STRONG_PASSWORD });
    const plain = await request('POST', '/api/auth/signup', { body, headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    const array = await request('POST', '/api/auth/signup', { json: [{ tenantName: 'X', email, password: STRONG_PASSWORD }] });
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe('validation_error');
    expect(await countUsersByEmail(email)).toBe(0);
  });

  it.each([
    ['a missing team name', (email: string) => ({ email, password: STRONG_PASSWORD })],
    ['a missing password', (email: string) => ({ tenantName: 'X', email })],
    ['an invalid email', () => ({ tenantName: 'X', email: 'not-an-email', password: STRONG_PASSWORD })],
    ['an oversized team name', (email: string) => ({ tenantName: 'x'.repeat(256), email, password: STRONG_PASSWORD })],
    ['an oversized email', () => ({ tenantName: 'X', email: `${'a'.repeat(250)}@example.test`, password: STRONG_PASSWORD })],
    ['an oversized password', (email: string) => ({ tenantName: 'X', email, password: 'Aa1-'.repeat(65) })],
    ['a number where a string belongs', (email: string) => ({ tenantName: 42, email, password: STRONG_PASSWORD })],
  ])('refuses %s with 400 validation_error and stores nothing', async (_what, body) => {
    const email = uniqueEmail('invalid');
    const res = await request('POST', '/api/auth/signup', { json: body(email) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message.length).toBeGreaterThan(0);
    expect(await countUsersByEmail(email)).toBe(0);
  });

  it.each(['password123', 'Short1A!', 'lowercase12345', 'PASSWORD-LETTER'])('refuses the weak password %j with 422 weak_password', async (password) => {
    const email = uniqueEmail('weak');
    const tenantName = `Weak ${randomSuffix()}`;
    const res = await request('POST', '/api/auth/signup', { json: { tenantName, email, password } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('weak_password');
    expect(await countUsersByEmail(email)).toBe(0);
    expect((await one(t.db, `SELECT count(*)::int AS n FROM core_tenant WHERE name = :tenantName`, { tenantName }))!.n).toBe(0);
  });

  it('refuses a password built on the email address', async () => {
    const email = `${'zanzibar' + randomSuffix()}@example.test`;
    const res = await request('POST', '/api/auth/signup', { json: { tenantName: 'X', email, password: `${email.split('@')[0]}-A9!x` } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('weak_password');
  });

  it('refuses a body over MAX_BODY_BYTES with 413 and stores nothing', async () => {
    const email = uniqueEmail('huge');
    const max = config().MAX_BODY_BYTES;
    const res = await request('POST', '/api/auth/signup', {
      json: { tenantName: 'Huge', email, password: STRONG_PASSWORD, firstName: 'x'.repeat(max) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await countUsersByEmail(email)).toBe(0);
  });
});

describe('log-in', () => {
  it('signs in with email + password: token, cookie, last_login and an audit row', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const res = await request('POST', '/api/auth/login', { json: { email: team.email.toUpperCase(), password: STRONG_PASSWORD }, ip, userAgent: 'login-agent' });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(team.userId);
    expect(res.body.tenant.slug).toBe(team.slug);
    expect(res.body.token).not.toBe(team.token);
    expect(parseSetCookie(res.headers.get('set-cookie'))?.value).toBe(res.body.token);
    expect((await request('GET', '/api/me', { token: res.body.token })).status).toBe(200);

    const audit = await rows(t.db, `SELECT action, host(ip_address) AS ip, user_agent FROM audit_log WHERE tenant_id = :id AND action = 'auth.login'`, { id: team.tenantId });
    expect(audit).toEqual([{ action: 'auth.login', ip, user_agent: 'login-agent' }]);
  });

  it('refuses a wrong password with 401 invalid_credentials and audits auth.login_failed', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const res = await request('POST', '/api/auth/login', { json: { email: team.email, password: 'Wrong-Password-123' }, ip, userAgent: 'guesser' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_credentials');
    expect(res.headers.get('set-cookie')).toBeNull();
    const audit = await rows(t.db, `SELECT user_id, host(ip_address) AS ip, user_agent FROM audit_log WHERE tenant_id = :id AND action = 'auth.login_failed'`, { id: team.tenantId });
    expect(audit).toEqual([{ user_id: team.userId, ip, user_agent: 'guesser' }]);
  });

  it('refuses an unknown email with the same 401 as a wrong password', async () => {
    const team = await signupViaApi();
    const wrong = await request('POST', '/api/auth/login', { json: { email: team.email, password: 'Wrong-Password-123' } });
    const unknown = await request('POST', '/api/auth/login', { json: { email: uniqueEmail('nobody'), password: STRONG_PASSWORD } });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('asks for the team when an email belongs to several, then signs in to the one named', async () => {
    const email = uniqueEmail('consultant');
    const a = await signupViaApi({ email });
    const b = await signupViaApi({ email });
    const ambiguous = await request('POST', '/api/auth/login', { json: { email, password: STRONG_PASSWORD } });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.error.code).toBe('tenant_required');
    expect([...ambiguous.body.error.details.tenants].sort()).toEqual([a.slug, b.slug].sort());
    expect(ambiguous.headers.get('set-cookie')).toBeNull();

    const res = await request('POST', '/api/auth/login', { json: { email, password: STRONG_PASSWORD, tenantSlug: b.slug } });
    expect(res.status).toBe(200);
    expect(res.body.tenant.id).toBe(b.tenantId);
    expect(res.body.user.id).toBe(b.userId);
    const me = await request('GET', '/api/me', { token: res.body.token });
    expect(me.body.tenant.id).toBe(b.tenantId);
  });

  it('refuses an unknown tenantSlug with 401', async () => {
    const team = await signupViaApi();
    const res = await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD, tenantSlug: `no-such-team-${randomSuffix()}` } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_credentials');
  });

  it('locks an account after LOGIN_MAX_FAILURES failures: 429 with Retry-After, even with the right password', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const max = config().LOGIN_MAX_FAILURES;
    for (let i = 0; i < max; i++) {
      const res = await request('POST', '/api/auth/login', { json: { email: team.email, password: `Wrong-Password-${i}` }, ip });
      expect(res.status).toBe(401);
    }
    for (const from of [ip, randomIp()]) {
      const res = await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD }, ip: from });
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('too_many_login_attempts');
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(config().LOGIN_WINDOW_SECONDS);
    }
    // Another account is not affected.
    const other = await signupViaApi();
    expect((await request('POST', '/api/auth/login', { json: { email: other.email, password: STRONG_PASSWORD }, ip: randomIp() })).status).toBe(200);
  });

  it('forgets an account’s failures after a successful log-in', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const max = config().LOGIN_MAX_FAILURES;
    const fail = () => request('POST', '/api/auth/login', { json: { email: team.email, password: 'Wrong-Password-1' }, ip });
    for (let i = 0; i < max - 1; i++) expect((await fail()).status).toBe(401);
    expect((await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD }, ip })).status).toBe(200);
    for (let i = 0; i < max - 1; i++) expect((await fail()).status).toBe(401);
    expect((await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD }, ip })).status).toBe(200);
  });

  it('limits failed log-ins per IP across accounts', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const perIp = config().LOGIN_MAX_FAILURES * 5;
    for (let i = 0; i < perIp; i++) {
      const res = await request('POST', '/api/auth/login', { json: { email: uniqueEmail('spray'), password: 'Wrong-Password-1' }, ip });
      expect(res.status).toBe(401);
    }
    const blocked = await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD }, ip });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_login_attempts');
    expect((await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD }, ip: randomIp() })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('log-out ends the session: the token then gets 401 invalid_token and its row is gone', async () => {
    const team = await signupViaApi();
    const res = await request('POST', '/api/auth/logout', { token: team.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    const cleared = parseSetCookie(res.headers.get('set-cookie'));
    expect(cleared?.name).toBe('fs_session');
    expect(cleared?.value).toBe('');
    const me = await request('GET', '/api/me', { token: team.token });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('invalid_token');
    expect(await rows(t.db, `SELECT id FROM auth_session WHERE id = :id`, { id: sha256Hex(team.token) })).toEqual([]);
  });

  it('requires credentials: no token → 401 unauthenticated; garbage token → 401 invalid_token', async () => {
    const none = await request('GET', '/api/me');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthenticated');
    const garbage = await request('GET', '/api/me', { token: 'not-a-real-token' });
    expect(garbage.status).toBe(401);
    expect(garbage.body.error.code).toBe('invalid_token');
  });

  it('accepts the session cookie for GET requests', async () => {
    const team = await signupViaApi();
    const me = await request('GET', '/api/me', { cookie: `fs_session=${team.token}` });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(team.userId);
    expect(me.body.auth.method).toBe('session');
  });

  it('refuses a cookie-authenticated write from another origin (403 csrf_rejected) and changes nothing', async () => {
    const team = await signupViaApi();
    const cookie = `fs_session=${team.token}`;
    // Another site, no Origin at all, and the opaque `null` origin of sandboxed frames are all refused.
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, {} as Record<string, string>]) {
      const res = await request('PATCH', '/api/me', { cookie, headers, json: { firstName: 'Mallory' } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('csrf_rejected');
    }
    const evilLogout = await request('POST', '/api/auth/logout', { cookie, headers: { origin: 'https://evil.example' } });
    expect(evilLogout.status).toBe(403);
    expect((await one(t.db, `SELECT first_name FROM core_user WHERE id = :id`, { id: team.userId }))!.first_name).toBeNull();
    expect((await request('GET', '/api/me', { token: team.token })).status).toBe(200);

    // The same write from our own origin goes through.
    const same = await request('PATCH', '/api/me', { cookie, headers: { origin: 'http://localhost' }, json: { firstName: 'Ada' } });
    expect(same.status).toBe(200);
    expect(same.body.firstName).toBe('Ada');
  });

  it('an expired session gets 401 and its row is deleted', async () => {
    const team = await signupViaApi();
    const id = sha256Hex(team.token);
    await t.db.query(`UPDATE auth_session SET expires_at = :past WHERE id = :id`, { replacements: { id, past: new Date(Date.now() - 60_000) } });
    const me = await request('GET', '/api/me', { token: team.token });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('invalid_token');
    expect(await rows(t.db, `SELECT id FROM auth_session WHERE id = :id`, { id })).toEqual([]);
  });

  it('slides the expiry back to ~30 days when less than half is left, and leaves it alone otherwise', async () => {
    const team = await signupViaApi();
    const id = sha256Hex(team.token);
    const ttl = config().SESSION_TTL_DAYS * DAY;
    const expiresAt = async () => new Date((await one(t.db, `SELECT expires_at FROM auth_session WHERE id = :id`, { id }))!.expires_at).getTime();

    const in20Days = new Date(Date.now() + 20 * DAY);
    await t.db.query(`UPDATE auth_session SET expires_at = :at WHERE id = :id`, { replacements: { id, at: in20Days } });
    expect((await request('GET', '/api/me', { token: team.token })).status).toBe(200);
    expect(Math.abs((await expiresAt()) - in20Days.getTime())).toBeLessThan(1000);

    await t.db.query(`UPDATE auth_session SET expires_at = :at WHERE id = :id`, { replacements: { id, at: new Date(Date.now() + 10 * DAY) } });
    expect((await request('GET', '/api/me', { token: team.token })).status).toBe(200);
    expect(Math.abs((await expiresAt()) - (Date.now() + ttl))).toBeLessThan(60_000);
  });
});

describe('my account', () => {
  it('changes the password: the old one stops working, the new one works', async () => {
    const team = await signupViaApi();
    const newPassword = 'Another-Strong-Pass-42';

    const wrong = await request('POST', '/api/me/password', { token: team.token, json: { currentPassword: 'Not-My-Password-1', newPassword } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const weak = await request('POST', '/api/me/password', { token: team.token, json: { currentPassword: STRONG_PASSWORD, newPassword: 'password123' } });
    expect(weak.status).toBe(422);
    expect(weak.body.error.code).toBe('weak_password');
    const before = (await one(t.db, `SELECT password_hash FROM core_user WHERE id = :id`, { id: team.userId }))!.password_hash;

    const ok = await request('POST', '/api/me/password', { token: team.token, json: { currentPassword: STRONG_PASSWORD, newPassword } });
    expect(ok.status).toBe(200);
    const after = (await one(t.db, `SELECT password_hash FROM core_user WHERE id = :id`, { id: team.userId }))!.password_hash;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^\$argon2id\$/);

    expect((await request('POST', '/api/auth/login', { json: { email: team.email, password: STRONG_PASSWORD } })).status).toBe(401);
    expect((await request('POST', '/api/auth/login', { json: { email: team.email, password: newPassword } })).status).toBe(200);
    const audit = await rows(t.db, `SELECT action FROM audit_log WHERE tenant_id = :id AND action = 'user.password_changed'`, { id: team.tenantId });
    expect(audit).toHaveLength(1);
  });

  it('updates the profile; an unknown time zone is 422 invalid_timezone and changes nothing', async () => {
    const team = await signupViaApi();
    const profile = () => one(t.db, `SELECT first_name, timezone, language FROM core_user WHERE id = :id`, { id: team.userId });

    const mars = await request('PATCH', '/api/me', { token: team.token, json: { timezone: 'Mars/Olympus', firstName: 'Ada' } });
    expect(mars.status).toBe(422);
    expect(mars.body.error.code).toBe('invalid_timezone');
    expect(await profile()).toEqual({ first_name: null, timezone: 'UTC', language: 'en' });

    const badLanguage = await request('PATCH', '/api/me', { token: team.token, json: { language: 'Klingon!' } });
    expect(badLanguage.status).toBe(400);
    expect(badLanguage.body.error.code).toBe('validation_error');

    // Role and tenant are not profile fields: the caller cannot widen their own scope.
    for (const json of [{ role: 'viewer' }, { tenantId: crypto.randomUUID() }]) {
      const res = await request('PATCH', '/api/me', { token: team.token, json });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }

    const ok = await request('PATCH', '/api/me', { token: team.token, json: { timezone: 'Europe/Paris', language: 'pt-BR', firstName: 'Ada' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ timezone: 'Europe/Paris', language: 'pt-BR', firstName: 'Ada', role: 'owner' });
    expect(await profile()).toEqual({ first_name: 'Ada', timezone: 'Europe/Paris', language: 'pt-BR' });
    const me = await request('GET', '/api/me', { token: team.token });
    expect(me.body.user).toMatchObject({ timezone: 'Europe/Paris', language: 'pt-BR' });
  });
});
