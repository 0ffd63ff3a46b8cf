// Tenant isolation: another tenant's owner tries every documents route and tool on tenant A's template
// and documents (including team/organization-wide ones) and gets exactly what an unknown id gets, while
// A's rows, files and counters stay as they were.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { setConfig } from '../../src/config.js';
import { documentTools, generateDocumentTool, getDocumentTool, listDocumentsTool, listTemplatesTool } from '../../src/tools/documents.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { download, footprint, generate, letterTemplate, report, testDataDir, toolContext, upload } from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR });
afterAll(() => {
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

describe('tenant isolation', () => {
  it('no route or tool of another tenant reaches a template or document, by id, list, download or tool', async () => {
    const a = await signupTeam();
    const b = await signupTeam();
    const template = (await upload(a.token, 'letter.docx', await letterTemplate(), { isPublic: 'true' })).body;
    const doc = (await generate(a.token, { templateId: template.id, data: { name: 'A', items: [], total: 1 }, visibility: 'organization' })).body;
    const priv = (await generate(a.token, { format: 'pdf', content: report })).body;
    await call('POST', `/api/documents/${doc.id}/share`, { token: a.token, json: { userIds: [a.userId] } });
    const before = await footprint(a.tenantId);
    const unknown = crypto.randomUUID();

    for (const id of [doc.id, priv.id, unknown]) {
      const attempts: Record<string, { status: number; body: any }> = {
        get: await call('GET', `/api/documents/${id}`, { token: b.token }),
        patch: await call('PATCH', `/api/documents/${id}`, { token: b.token, json: { visibility: 'private' } }),
        delete: await call('DELETE', `/api/documents/${id}`, { token: b.token }),
        versions: await call('GET', `/api/documents/${id}/versions`, { token: b.token }),
        regenerate: await call('POST', `/api/documents/${id}/versions`, { token: b.token, json: {} }),
        shares: await call('GET', `/api/documents/${id}/shares`, { token: b.token }),
        share: await call('POST', `/api/documents/${id}/share`, { token: b.token, json: { userIds: [b.userId] } }),
        unshare: await call('DELETE', `/api/documents/${id}/share/${a.userId}`, { token: b.token }),
      };
      const file = await download(b.token, `/api/documents/${id}/download`);
      const version = await download(b.token, `/api/documents/${id}/versions/1/download`);
      attempts.download = { status: file.status, body: file.json() };
      attempts.versionDownload = { status: version.status, body: version.json() };
      for (const [name, res] of Object.entries(attempts)) {
        expect({ name, id, status: res.status, code: res.body.error?.code }).toEqual({ name, id, status: 404, code: 'document_not_found' });
      }
      await expect(getDocumentTool.execute({ documentId: id }, toolContext(b))).rejects.toMatchObject({ code: 'document_not_found', status: 404 });
    }

    for (const id of [template.id, unknown]) {
      for (const res of [
        await call('GET', `/api/documents/templates/${id}`, { token: b.token }),
        await call('DELETE', `/api/documents/templates/${id}`, { token: b.token }),
        await generate(b.token, { templateId: id, data: { name: 'B', items: [], total: 2 } }),
      ])
        expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 404, code: 'template_not_found' });
      await expect(generateDocumentTool.execute({ templateId: id, data: {} }, toolContext(b))).rejects.toMatchObject({ code: 'template_not_found' });
    }

    // Lists: B sees none of A's, however public or organization-wide.
    expect((await call('GET', '/api/documents', { token: b.token })).body).toEqual({ documents: [], total: 0 });
    expect((await call('GET', '/api/documents/templates', { token: b.token })).body).toEqual({ templates: [], total: 0 });
    expect(await listDocumentsTool.execute({}, toolContext(b))).toEqual({ documents: [], total: 0 });
    expect(await listTemplatesTool.execute({}, toolContext(b))).toEqual({ templates: [], total: 0 });

    // A's things are untouched, and B's failed attempts left nothing in B either.
    expect(await footprint(a.tenantId)).toEqual(before);
    expect(await footprint(b.tenantId)).toMatchObject({ documents: 0, templates: 0, files: [], documentsUsed: 0 });
    expect((await call('GET', `/api/documents/${doc.id}`, { token: a.token })).body.visibility).toBe('organization');
  });

  it('the tool context decides the tenant: nothing in the arguments can widen it', async () => {
    const a = await signupTeam();
    const b = await signupTeam();
    const doc = (await generate(a.token, { format: 'docx', content: report, visibility: 'organization' })).body;
    // Extra arguments naming another tenant are stripped by the schemas and never reach the commands.
    for (const tool of documentTools) {
      const shape = (tool.inputSchema as any).shape as Record<string, unknown>;
      expect(Object.keys(shape)).not.toContain('tenantId');
      expect(Object.keys(shape)).not.toContain('userId');
    }
    const parsed = getDocumentTool.inputSchema.parse({ documentId: doc.id, tenantId: a.tenantId, userId: a.userId });
    await expect(getDocumentTool.execute(parsed, toolContext(b))).rejects.toMatchObject({ code: 'document_not_found' });
  });

  it('requires a signed-in caller on every route', async () => {
    const a = await signupTeam();
    const doc = (await generate(a.token, { format: 'pdf', content: report })).body;
    for (const [method, path] of [
      ['GET', '/api/documents'],
      ['POST', '/api/documents'],
      ['GET', `/api/documents/${doc.id}`],
      ['GET', `/api/documents/${doc.id}/download`],
      ['GET', '/api/documents/templates'],
      ['POST', '/api/documents/templates'],
    ] as const) {
      const res = await call(method, path, method === 'POST' ? { json: {} } : {});
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });
});
