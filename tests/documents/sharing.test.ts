// Visibility and sharing within one tenant: private documents are their creator's (and admins') until
// shared; team means the creator's department (the whole tenant when they have none); organization means
// everyone. Every read path says the same: get, list, download, versions, the tools. Only the creator
// and admins change a document.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { setConfig } from '../../src/config.js';
import { getDocumentTool, listDocumentsTool } from '../../src/tools/documents.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { addPerson, download, generate, report, setDepartment, testDataDir, toolContext, type Person } from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR });
afterAll(() => {
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

/** What `who` can see of document `id`, through every read path. */
async function sees(who: Person, id: string) {
  const get = (await call('GET', `/api/documents/${id}`, { token: who.token })).status;
  const listed = (await call('GET', '/api/documents?limit=100', { token: who.token })).body.documents.some((d: any) => d.id === id);
  const file = (await download(who.token, `/api/documents/${id}/download`)).status;
  const versions = (await call('GET', `/api/documents/${id}/versions`, { token: who.token })).status;
  const version = (await download(who.token, `/api/documents/${id}/versions/1/download`)).status;
  const ctx = toolContext(who, who.role as never);
  const tool = await getDocumentTool.execute({ documentId: id }, ctx).then(
    () => 'ok',
    (e) => e.code,
  );
  const toolListed = (await listDocumentsTool.execute({ limit: 50 }, ctx)).documents.some((d) => d.id === id);
  return { get, listed, file, versions, version, tool, toolListed };
}

const VISIBLE = { get: 200, listed: true, file: 200, versions: 200, version: 200, tool: 'ok', toolListed: true };
const HIDDEN = { get: 404, listed: false, file: 404, versions: 404, version: 404, tool: 'document_not_found', toolListed: false };

describe('document visibility', () => {
  it('a private document is invisible to another member until shared, and again once unshared', async () => {
    const team = await signupTeam();
    const a = await addPerson(team, 'member');
    const b = await addPerson(team, 'member');
    const doc = (await generate(a.token, { format: 'pdf', content: report })).body;

    expect(await sees(a, doc.id)).toEqual(VISIBLE);
    expect(await sees(b, doc.id)).toEqual(HIDDEN);

    const shared = await call('POST', `/api/documents/${doc.id}/share`, { token: a.token, json: { userIds: [b.userId, b.userId] } });
    expect(shared.status).toBe(200);
    expect(shared.body.shares.map((s: any) => s.userId)).toEqual([b.userId]);
    expect(await sees(b, doc.id)).toEqual(VISIBLE);
    // Sharing again is harmless.
    expect((await call('POST', `/api/documents/${doc.id}/share`, { token: a.token, json: { userIds: [b.userId] } })).body.shares).toHaveLength(1);
    expect((await call('GET', `/api/documents/${doc.id}/shares`, { token: a.token })).body.shares).toHaveLength(1);

    // A reader is not a writer: B cannot re-share, regenerate, rename, re-scope, delete or list shares.
    const c = await addPerson(team, 'member');
    const writes = [
      await call('POST', `/api/documents/${doc.id}/share`, { token: b.token, json: { userIds: [c.userId] } }),
      await call('POST', `/api/documents/${doc.id}/versions`, { token: b.token, json: {} }),
      await call('PATCH', `/api/documents/${doc.id}`, { token: b.token, json: { visibility: 'organization' } }),
      await call('DELETE', `/api/documents/${doc.id}`, { token: b.token }),
      await call('GET', `/api/documents/${doc.id}/shares`, { token: b.token }),
      await call('DELETE', `/api/documents/${doc.id}/share/${b.userId}`, { token: b.token }),
    ];
    expect(writes.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(await sees(c, doc.id)).toEqual(HIDDEN);

    const unshared = await call('DELETE', `/api/documents/${doc.id}/share/${b.userId}`, { token: a.token });
    expect(unshared.body.shares).toEqual([]);
    expect(await sees(b, doc.id)).toEqual(HIDDEN);
    expect((await call('DELETE', `/api/documents/${doc.id}/share/${b.userId}`, { token: a.token })).body.error.code).toBe('share_not_found');
  });

  it('owners and admins read and manage every document of their tenant', async () => {
    const team = await signupTeam();
    const a = await addPerson(team, 'member');
    const admin = await addPerson(team, 'admin');
    const doc = (await generate(a.token, { format: 'docx', content: report })).body;
    expect(await sees(admin, doc.id)).toEqual(VISIBLE);
    expect((await call('PATCH', `/api/documents/${doc.id}`, { token: admin.token, json: { title: 'Renamed by admin' } })).body.title).toBe('Renamed by admin');
    expect((await call('POST', `/api/documents/${doc.id}/versions`, { token: team.token, json: {} })).status).toBe(201);
    expect((await call('DELETE', `/api/documents/${doc.id}`, { token: admin.token })).status).toBe(200);
    expect(await sees(a, doc.id)).toEqual(HIDDEN);
  });

  it('team visibility is the creator’s department; without one, the whole tenant', async () => {
    const team = await signupTeam();
    const sales1 = await addPerson(team, 'member', 'Sales');
    const sales2 = await addPerson(team, 'viewer', ' sales ');
    const eng = await addPerson(team, 'member', 'Engineering');
    const nobody = await addPerson(team, 'member');

    const salesDoc = (await generate(sales1.token, { format: 'pdf', content: report, visibility: 'team' })).body;
    expect(salesDoc.visibility).toBe('team');
    expect((await sees(sales2, salesDoc.id)).get).toBe(200);
    expect(await sees(eng, salesDoc.id)).toEqual(HIDDEN);
    expect(await sees(nobody, salesDoc.id)).toEqual(HIDDEN);

    const noDeptDoc = (await generate(nobody.token, { format: 'pdf', content: report, visibility: 'team' })).body;
    expect((await sees(eng, noDeptDoc.id)).get).toBe(200);
    expect((await sees(sales2, noDeptDoc.id)).listed).toBe(true);

    // Moving the creator to another department moves the audience with them.
    await setDepartment(sales1.userId, 'Engineering');
    expect((await sees(eng, salesDoc.id)).get).toBe(200);
    expect((await sees(sales2, salesDoc.id)).get).toBe(404);
  });

  it('organization visibility is everyone in the tenant; the creator can narrow it back to private', async () => {
    const team = await signupTeam();
    const a = await addPerson(team, 'member', 'Sales');
    const viewer = await addPerson(team, 'viewer', 'Support');
    const doc = (await generate(a.token, { format: 'xlsx', content: report, visibility: 'organization' })).body;
    expect(await sees(viewer, doc.id)).toEqual(VISIBLE);
    const narrowed = await call('PATCH', `/api/documents/${doc.id}`, { token: a.token, json: { visibility: 'private' } });
    expect(narrowed.body.visibility).toBe('private');
    expect(await sees(viewer, doc.id)).toEqual(HIDDEN);
    // Viewers read but never write.
    expect((await generate(viewer.token, { format: 'pdf', content: report })).status).toBe(403);
  });

  it('shares only with users of the same tenant', async () => {
    const team = await signupTeam();
    const other = await signupTeam();
    const doc = (await generate(team.token, { format: 'pdf', content: report })).body;
    const res = await call('POST', `/api/documents/${doc.id}/share`, { token: team.token, json: { userIds: [other.userId] } });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'user_not_found', details: { missing: [other.userId] } });
    expect((await call('GET', `/api/documents/${doc.id}/shares`, { token: team.token })).body.shares).toEqual([]);
    expect((await call('GET', `/api/documents/${doc.id}`, { token: other.token })).status).toBe(404);
  });
});
