// Tenant isolation: a caller of team A, by session or by API key, can read or change nothing of team B
// through any user or API-key route. Ids of B's rows answer 404 (as if they did not exist), lists hold
// only A's rows, and B's rows are byte-for-byte unchanged afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/harness.js';
import { addUser, rows, request, signupViaApi, uniqueEmail } from './helpers.js';

const t = useTestApp();

interface World {
  a: Awaited<ReturnType<typeof signupViaApi>>;
  aKey: string;
  b: Awaited<ReturnType<typeof signupViaApi>>;
  bMember: Awaited<ReturnType<typeof addUser>>;
  bKeyId: string;
  bKey: string;
}
let w: World;

const snapshotB = async () => ({
  users: await rows(t.db, `SELECT * FROM core_user WHERE tenant_id = :id ORDER BY id`, { id: w.b.tenantId }),
  keys: await rows(t.db, `SELECT * FROM auth_api_key WHERE tenant_id = :id ORDER BY id`, { id: w.b.tenantId }),
  sessions: await rows(t.db, `SELECT id, user_id, tenant_id FROM auth_session WHERE tenant_id = :id ORDER BY id`, { id: w.b.tenantId }),
  audit: await rows(t.db, `SELECT id, action FROM audit_log WHERE tenant_id = :id ORDER BY id`, { id: w.b.tenantId }),
  tenant: await rows(t.db, `SELECT * FROM core_tenant WHERE id = :id`, { id: w.b.tenantId }),
});

beforeAll(async () => {
  const a = await signupViaApi();
  const b = await signupViaApi();
  const bMember = await addUser(b.token, 'member');
  const bKey = await request('POST', '/api/api-keys', { token: b.token, json: { name: 'B bot', scopes: ['admin', 'read', 'write'] } });
  const aKey = await request('POST', '/api/api-keys', { token: a.token, json: { name: 'A bot', scopes: ['admin', 'read', 'write'] } });
  w = { a, b, bMember, bKeyId: bKey.body.apiKey.id, bKey: bKey.body.key, aKey: aKey.body.key };
});

describe('tenant isolation', () => {
  for (const via of ['session', 'api key'] as const) {
    it(`team A (${via}) cannot read, change or deactivate team B's users, nor revoke B's keys`, async () => {
      const token = via === 'session' ? w.a.token : w.aKey;
      const before = await snapshotB();
      for (const id of [w.b.userId, w.bMember.id]) {
        const get = await request('GET', `/api/users/${id}`, { token });
        expect(get.status).toBe(404);
        expect(get.body.error.code).toBe('not_found');
        const patch = await request('PATCH', `/api/users/${id}`, { token, json: { role: 'viewer', firstName: 'Pwned', isActive: false } });
        expect(patch.status).toBe(404);
        const del = await request('DELETE', `/api/users/${id}`, { token });
        expect(del.status).toBe(404);
      }
      const revoke = await request('DELETE', `/api/api-keys/${w.bKeyId}`, { token });
      expect(revoke.status).toBe(404);
      // A key for one of B's users cannot be minted from A.
      const mint = await request('POST', '/api/api-keys', { token, json: { name: 'trojan', userId: w.bMember.id } });
      expect(mint.status).toBe(404);

      expect(await snapshotB()).toEqual(before);
      // B is still fully working.
      expect((await request('GET', '/api/me', { token: w.b.token })).status).toBe(200);
      expect((await request('GET', '/api/me', { token: w.bMember.token })).status).toBe(200);
      expect((await request('GET', '/api/me', { token: w.bKey })).status).toBe(200);
    });
  }

  it('lists hold only the caller’s team', async () => {
    const users = await request('GET', '/api/users?limit=100', { token: w.a.token });
    expect(users.status).toBe(200);
    expect(users.body.total).toBe(1);
    expect(users.body.users.map((u: any) => u.id)).toEqual([w.a.userId]);
    expect(users.body.users.every((u: any) => u.tenantId === w.a.tenantId)).toBe(true);

    const keys = await request('GET', '/api/api-keys', { token: w.a.token });
    expect(keys.body.apiKeys).toHaveLength(1);
    expect(keys.body.apiKeys[0].id).not.toBe(w.bKeyId);

    const bUsers = await request('GET', '/api/users', { token: w.b.token });
    expect(bUsers.body.users.map((u: any) => u.id).sort()).toEqual([w.b.userId, w.bMember.id].sort());
  });

  it('/api/me answers for the caller’s own team only; input cannot choose another tenant', async () => {
    const me = await request('GET', '/api/me', { token: w.a.token });
    expect(me.body.tenant.id).toBe(w.a.tenantId);
    // A body naming B's tenant is refused, and a user created by A lands in A whatever the body says.
    const patch = await request('PATCH', '/api/me', { token: w.a.token, json: { tenantId: w.b.tenantId } });
    expect(patch.status).toBe(400);
    const created = await request('POST', '/api/users', { token: w.a.token, json: { email: uniqueEmail('placed'), role: 'member', tenantId: w.b.tenantId } });
    expect(created.status).toBe(201);
    expect(created.body.tenantId).toBe(w.a.tenantId);
    const stored = await rows(t.db, `SELECT tenant_id FROM core_user WHERE id = :id`, { id: created.body.id });
    expect(stored).toEqual([{ tenant_id: w.a.tenantId }]);
  });

  it('the same email in both teams stays two separate accounts', async () => {
    const email = w.b.email;
    const res = await request('POST', '/api/users', { token: w.a.token, json: { email, role: 'member', password: 'Separate-Account-77' } });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(w.b.userId);
    // Logging in to A with A's password never reaches B's account.
    const login = await request('POST', '/api/auth/login', { json: { email, password: 'Separate-Account-77', tenantSlug: w.a.slug } });
    expect(login.status).toBe(200);
    expect(login.body.tenant.id).toBe(w.a.tenantId);
    const intoB = await request('POST', '/api/auth/login', { json: { email, password: 'Separate-Account-77', tenantSlug: w.b.slug } });
    expect(intoB.status).toBe(401);
  });
});
