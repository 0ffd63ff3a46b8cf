// Users of a team (roles, policies, the plan's seat limit, deactivation, the last owner) and API keys
// (shown once, stored hashed, scoped, revocable, expiring), through the HTTP API.
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/harness.js';
import { addUser, one, randomIp, request, rows, sha256Hex, signupViaApi, STRONG_PASSWORD, uniqueEmail } from './helpers.js';

const t = useTestApp();

const userCount = async (tenantId: string) =>
  Number((await one(t.db, `SELECT count(*)::int AS n FROM core_user WHERE tenant_id = :tenantId`, { tenantId }))!.n);

describe('users and roles', () => {
  it('owners add admins; admins add members and managers but not owners or admins', async () => {
    const team = await signupViaApi();
    const admin = await addUser(team.token, 'admin');
    const me = await request('GET', '/api/me', { token: admin.token });
    expect(me.body.user.role).toBe('admin');

    for (const role of ['member', 'manager']) {
      const res = await request('POST', '/api/users', { token: admin.token, json: { email: uniqueEmail(role), role } });
      expect(res.status).toBe(201);
      expect(res.body.role).toBe(role);
      expect(res.body.tenantId).toBe(team.tenantId);
    }
    const before = await userCount(team.tenantId);
    for (const role of ['admin', 'owner']) {
      const res = await request('POST', '/api/users', { token: admin.token, json: { email: uniqueEmail(role), role } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect(await userCount(team.tenantId)).toBe(before);

    // An admin can neither demote the owner nor promote someone to admin.
    const demote = await request('PATCH', `/api/users/${team.userId}`, { token: admin.token, json: { role: 'member' } });
    expect(demote.status).toBe(403);
    const member = (await request('GET', '/api/users', { token: admin.token })).body.users.find((u: any) => u.role === 'member');
    const promote = await request('PATCH', `/api/users/${member.id}`, { token: admin.token, json: { role: 'admin' } });
    expect(promote.status).toBe(403);
    expect((await one(t.db, `SELECT role FROM core_user WHERE id = :id`, { id: member.id }))!.role).toBe('member');
    expect((await one(t.db, `SELECT role FROM core_user WHERE id = :id`, { id: team.userId }))!.role).toBe('owner');
  });

  it('viewers and members cannot add, change or deactivate users (403), but may list them', async () => {
    const team = await signupViaApi();
    const member = await addUser(team.token, 'member');
    const viewer = await addUser(team.token, 'viewer');
    const before = await userCount(team.tenantId);
    for (const caller of [member, viewer]) {
      const create = await request('POST', '/api/users', { token: caller.token, json: { email: uniqueEmail('x'), role: 'viewer' } });
      expect(create.status).toBe(403);
      expect(create.body.error.code).toBe('forbidden');
      expect((await request('PATCH', `/api/users/${viewer.id}`, { token: caller.token, json: { firstName: 'Changed' } })).status).toBe(403);
      expect((await request('DELETE', `/api/users/${team.userId}`, { token: caller.token })).status).toBe(403);
      const list = await request('GET', '/api/users', { token: caller.token });
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(3);
    }
    expect(await userCount(team.tenantId)).toBe(before);
    const stored = await rows(t.db, `SELECT first_name, is_active FROM core_user WHERE tenant_id = :id`, { id: team.tenantId });
    expect(stored.every((u) => u.first_name === null && u.is_active === true)).toBe(true);
  });

  it('stops at the plan’s max_users with 409 tenant_user_limit; deactivating a user frees a seat', async () => {
    const team = await signupViaApi();
    const { max_users } = (await one(t.db, `SELECT max_users FROM core_tenant WHERE id = :id`, { id: team.tenantId }))!;
    expect(max_users).toBe(5);
    const ids: string[] = [];
    for (let i = 1; i < max_users; i++) {
      const res = await request('POST', '/api/users', { token: team.token, json: { email: uniqueEmail('seat'), role: 'member' } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const sixthEmail = uniqueEmail('sixth');
    const sixth = await request('POST', '/api/users', { token: team.token, json: { email: sixthEmail, role: 'member' } });
    expect(sixth.status).toBe(409);
    expect(sixth.body.error.code).toBe('tenant_user_limit');
    expect(await userCount(team.tenantId)).toBe(max_users);

    expect((await request('DELETE', `/api/users/${ids[0]}`, { token: team.token })).status).toBe(200);
    expect((await request('POST', '/api/users', { token: team.token, json: { email: sixthEmail, role: 'member' } })).status).toBe(201);
    // Reactivating the deactivated user would exceed the limit again.
    const reactivate = await request('PATCH', `/api/users/${ids[0]}`, { token: team.token, json: { isActive: true } });
    expect(reactivate.status).toBe(409);
    expect(reactivate.body.error.code).toBe('tenant_user_limit');
    expect((await one(t.db, `SELECT is_active FROM core_user WHERE id = :id`, { id: ids[0] }))!.is_active).toBe(false);
  });

  it('refuses malformed ids, unknown roles and out-of-range pages with 400 validation_error', async () => {
    const team = await signupViaApi();
    for (const [method, path, json] of [
      ['GET', '/api/users/not-a-uuid', undefined],
      ['PATCH', '/api/users/12345', { role: 'member' }],
      ['DELETE', '/api/api-keys/not-a-uuid', undefined],
      ['GET', '/api/users?limit=1000', undefined],
      ['POST', '/api/users', { email: uniqueEmail('god'), role: 'god' }],
      ['PATCH', `/api/users/${team.userId}`, { role: 'superuser' }],
      ['POST', '/api/api-keys', { name: 'x', scopes: ['root'] }],
      ['POST', '/api/api-keys', { name: '', scopes: ['read'] }],
    ] as const) {
      const res = await request(method, path, { token: team.token, json });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    expect(await userCount(team.tenantId)).toBe(1);
    expect((await one(t.db, `SELECT count(*)::int AS n FROM auth_api_key WHERE tenant_id = :id`, { id: team.tenantId }))!.n).toBe(0);
  });

  it('refuses a duplicate email within a team (409 email_taken, whatever the case) but not across teams', async () => {
    const team = await signupViaApi();
    const email = uniqueEmail('dup');
    expect((await request('POST', '/api/users', { token: team.token, json: { email, role: 'member' } })).status).toBe(201);
    const again = await request('POST', '/api/users', { token: team.token, json: { email: email.toUpperCase(), role: 'viewer' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('email_taken');
    const owner = await request('POST', '/api/users', { token: team.token, json: { email: team.email, role: 'member' } });
    expect(owner.status).toBe(409);
    expect(await userCount(team.tenantId)).toBe(2);

    const other = await signupViaApi();
    expect((await request('POST', '/api/users', { token: other.token, json: { email, role: 'member' } })).status).toBe(201);
  });

  it('deactivating a user ends their sessions, API keys and log-ins', async () => {
    const team = await signupViaApi();
    const member = await addUser(team.token, 'member');
    const key = await request('POST', '/api/api-keys', { token: team.token, json: { name: 'member bot', userId: member.id, scopes: ['read'] } });
    expect(key.status).toBe(201);
    expect((await request('GET', '/api/me', { token: key.body.key })).body.user.id).toBe(member.id);

    const res = await request('DELETE', `/api/users/${member.id}`, { token: team.token });
    expect(res.status).toBe(200);
    expect(res.body.isActive).toBe(false);
    expect((await request('GET', '/api/me', { token: member.token })).status).toBe(401);
    expect((await request('GET', '/api/me', { token: key.body.key })).status).toBe(401);
    expect(await rows(t.db, `SELECT id FROM auth_session WHERE user_id = :id`, { id: member.id })).toEqual([]);
    const login = await request('POST', '/api/auth/login', { json: { email: member.email, password: STRONG_PASSWORD } });
    expect(login.status).toBe(401);
    // Still listed, as inactive.
    const listed = (await request('GET', '/api/users', { token: team.token })).body.users.find((u: any) => u.id === member.id);
    expect(listed.isActive).toBe(false);
  });

  it('keeps at least one active owner (409 last_owner)', async () => {
    const team = await signupViaApi();
    const demote = await request('PATCH', `/api/users/${team.userId}`, { token: team.token, json: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error.code).toBe('last_owner');
    const deactivate = await request('DELETE', `/api/users/${team.userId}`, { token: team.token });
    expect(deactivate.status).toBe(409);
    expect(deactivate.body.error.code).toBe('last_owner');
    expect(await one(t.db, `SELECT role, is_active FROM core_user WHERE id = :id`, { id: team.userId })).toEqual({ role: 'owner', is_active: true });
    expect((await request('GET', '/api/me', { token: team.token })).status).toBe(200);

    // With a second owner, the first may step down.
    const second = await addUser(team.token, 'owner');
    const stepDown = await request('PATCH', `/api/users/${team.userId}`, { token: second.token, json: { role: 'admin' } });
    expect(stepDown.status).toBe(200);
    expect(stepDown.body.role).toBe('admin');
    const last = await request('DELETE', `/api/users/${second.id}`, { token: second.token });
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('last_owner');
  });

  it('audits user.created, user.updated and user.deactivated with the actor, IP and user agent', async () => {
    const team = await signupViaApi();
    const ip = randomIp();
    const userAgent = 'admin-console/3.1';
    const created = await request('POST', '/api/users', { token: team.token, json: { email: uniqueEmail('audited'), role: 'member' }, ip, userAgent });
    const id = created.body.id;
    expect((await request('PATCH', `/api/users/${id}`, { token: team.token, json: { role: 'viewer', department: 'Sales' }, ip, userAgent })).status).toBe(200);
    expect((await request('DELETE', `/api/users/${id}`, { token: team.token, ip, userAgent })).status).toBe(200);

    const audit = await rows(
      t.db,
      `SELECT action, user_id, resource_type, host(ip_address) AS ip, user_agent, details FROM audit_log
        WHERE tenant_id = :tenantId AND resource_id = :id`,
      { tenantId: team.tenantId, id },
    );
    expect(audit).toHaveLength(3);
    const byAction = Object.fromEntries(audit.map((a) => [a.action, a]));
    expect(Object.keys(byAction).sort()).toEqual(['user.created', 'user.deactivated', 'user.updated']);
    for (const a of audit) expect(a).toMatchObject({ user_id: team.userId, resource_type: 'user', ip, user_agent: userAgent });
    expect(byAction['user.created'].details).toMatchObject({ role: 'member' });
    expect(byAction['user.updated'].details).toMatchObject({ before: { role: 'member' }, changes: { role: 'viewer', department: 'Sales' } });
    expect(byAction['user.deactivated'].details).toMatchObject({ changes: { isActive: false } });
  });
});

describe('API keys', () => {
  it('an admin creates a key: shown once, only its hash stored; it signs in as api_key and records its last use', async () => {
    const team = await signupViaApi();
    const admin = await addUser(team.token, 'admin');
    const created = await request('POST', '/api/api-keys', { token: admin.token, json: { name: 'CI bot', scopes: ['read', 'write'] } });
    expect(created.status).toBe(201);
    const { key, apiKey } = created.body;
    expect(key).toMatch(/^fsk_[a-z2-7]{40,}$/);
    expect(apiKey).toMatchObject({ name: 'CI bot', scopes: ['read', 'write'], userId: admin.id, prefix: key.slice(0, 12), lastUsedAt: null, revokedAt: null });

    // Never shown again, never stored in clear.
    const list = await request('GET', '/api/api-keys', { token: team.token });
    expect(list.status).toBe(200);
    expect(list.body.apiKeys.map((k: any) => k.id)).toEqual([apiKey.id]);
    expect(JSON.stringify(list.body)).not.toContain(key);
    const stored = await one(t.db, `SELECT key_hash, last_used_at FROM auth_api_key WHERE id = :id`, { id: apiKey.id });
    expect(stored!.key_hash).toBe(sha256Hex(key));
    expect(stored!.last_used_at).toBeNull();
    const leaks = await one(
      t.db,
      `SELECT (SELECT count(*)::int FROM auth_api_key k WHERE row_to_json(k)::text LIKE :pattern)
            + (SELECT count(*)::int FROM audit_log a WHERE row_to_json(a)::text LIKE :pattern) AS n`,
      { pattern: `%${key.slice(4)}%` },
    );
    expect(leaks!.n).toBe(0);

    const me = await request('GET', '/api/me', { token: key });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(admin.id);
    expect(me.body.auth).toEqual({ method: 'api_key', scopes: ['read', 'write'] });
    const used = await one(t.db, `SELECT last_used_at FROM auth_api_key WHERE id = :id`, { id: apiKey.id });
    expect(Math.abs(new Date(used!.last_used_at).getTime() - Date.now())).toBeLessThan(60_000);

    const audit = await rows(t.db, `SELECT action, user_id FROM audit_log WHERE tenant_id = :id AND resource_id = :key`, { id: team.tenantId, key: apiKey.id });
    expect(audit).toEqual([{ action: 'api_key.created', user_id: admin.id }]);
  });

  it('a revoked key gets 401 invalid_token', async () => {
    const team = await signupViaApi();
    const { body } = await request('POST', '/api/api-keys', { token: team.token, json: { name: 'temp' } });
    expect((await request('GET', '/api/me', { token: body.key })).status).toBe(200);
    const revoked = await request('DELETE', `/api/api-keys/${body.apiKey.id}`, { token: team.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const me = await request('GET', '/api/me', { token: body.key });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('invalid_token');
    expect((await request('DELETE', `/api/api-keys/${body.apiKey.id}`, { token: team.token })).status).toBe(200);
    const audit = await rows(t.db, `SELECT action FROM audit_log WHERE resource_id = :id`, { id: body.apiKey.id });
    expect(audit.map((a) => a.action).sort()).toEqual(['api_key.created', 'api_key.revoked']);
  });

  it('an expired key gets 401; a key cannot be created already expired (422)', async () => {
    const team = await signupViaApi();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const { body } = await request('POST', '/api/api-keys', { token: team.token, json: { name: 'short-lived', expiresAt } });
    expect(new Date(body.apiKey.expiresAt).toISOString()).toBe(expiresAt);
    expect((await request('GET', '/api/me', { token: body.key })).status).toBe(200);
    await t.db.query(`UPDATE auth_api_key SET expires_at = :past WHERE id = :id`, { replacements: { id: body.apiKey.id, past: new Date(Date.now() - 1000) } });
    const me = await request('GET', '/api/me', { token: body.key });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('invalid_token');

    const past = await request('POST', '/api/api-keys', { token: team.token, json: { name: 'stale', expiresAt: new Date(Date.now() - 60_000).toISOString() } });
    expect(past.status).toBe(422);
    expect(past.body.error.code).toBe('invalid_expiry');
  });

  it('a read-scoped key cannot manage users or keys, even an owner’s; an admin-scoped key can', async () => {
    const team = await signupViaApi();
    const read = (await request('POST', '/api/api-keys', { token: team.token, json: { name: 'reader', scopes: ['read'] } })).body.key;
    const before = await userCount(team.tenantId);
    const create = await request('POST', '/api/users', { token: read, json: { email: uniqueEmail('via-key'), role: 'member' } });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    expect((await request('POST', '/api/api-keys', { token: read, json: { name: 'escalate', scopes: ['admin'] } })).status).toBe(403);
    expect(await userCount(team.tenantId)).toBe(before);
    expect((await request('GET', '/api/users', { token: read })).status).toBe(200);

    const admin = (await request('POST', '/api/api-keys', { token: team.token, json: { name: 'provisioner', scopes: ['admin'] } })).body.key;
    const ok = await request('POST', '/api/users', { token: admin, json: { email: uniqueEmail('via-admin-key'), role: 'member' } });
    expect(ok.status).toBe(201);
  });

  it('members and viewers cannot create, list or revoke keys (403)', async () => {
    const team = await signupViaApi();
    const ownerKey = (await request('POST', '/api/api-keys', { token: team.token, json: { name: 'owner bot' } })).body;
    for (const role of ['member', 'viewer']) {
      const user = await addUser(team.token, role);
      const create = await request('POST', '/api/api-keys', { token: user.token, json: { name: 'mine' } });
      expect(create.status).toBe(403);
      expect((await request('GET', '/api/api-keys', { token: user.token })).status).toBe(403);
      expect((await request('DELETE', `/api/api-keys/${ownerKey.apiKey.id}`, { token: user.token })).status).toBe(403);
    }
    expect((await one(t.db, `SELECT count(*)::int AS n FROM auth_api_key WHERE tenant_id = :id`, { id: team.tenantId }))!.n).toBe(1);
    expect((await request('GET', '/api/me', { token: ownerKey.key })).status).toBe(200);
  });
});
