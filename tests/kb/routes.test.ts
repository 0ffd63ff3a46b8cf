// The knowledge-base routes and tools as callers see them: who may do what (roles, API key scopes),
// listing with filters and pages, validation of the multipart form, and the two tools through the registry.
import { beforeAll, describe, expect, it } from 'vitest';
import { allTools, toolsFor } from '../../src/tools/index.js';
import type { ToolContext } from '../../src/tools/registry.js';
import { call, signupTeam, useTestApp, type Team } from '../support/harness.js';
import { addPerson, drain, ingest, rows, upload, type Person } from './support.js';

useTestApp();

let team: Team;
let member: Person;
let otherMember: Person;
let manager: Person;
let viewer: Person;

beforeAll(async () => {
  team = await signupTeam();
  member = await addPerson(team, 'member');
  otherMember = await addPerson(team, 'member');
  manager = await addPerson(team, 'manager');
  viewer = await addPerson(team, 'viewer');
});

const text = (s: string) => Buffer.from(s);

describe('roles', () => {
  it('viewers read and search but cannot upload, delete or reprocess', async () => {
    const doc = await ingest(member.token, team.tenantId, text('The greenhouse is watered at dawn.'), 'greenhouse.txt');
    const up = await upload(viewer.token, text('nope'), 'nope.txt');
    expect([up.status, up.body.error.code]).toEqual([403, 'forbidden']);
    expect((await call('GET', '/api/kb/documents', { token: viewer.token })).status).toBe(200);
    expect((await call('GET', `/api/kb/documents/${doc.id}`, { token: viewer.token })).body.title).toBe('greenhouse');
    const found = await call('GET', '/api/kb/search?q=greenhouse%20watered', { token: viewer.token });
    expect(found.body.passages[0].documentId).toBe(doc.id);
    expect((await call('DELETE', `/api/kb/documents/${doc.id}`, { token: viewer.token })).status).toBe(403);
    expect((await call('POST', `/api/kb/documents/${doc.id}/reprocess`, { token: viewer.token })).status).toBe(403);
  });

  it('members delete their own documents only; managers delete anyone’s', async () => {
    const mine = (await upload(member.token, text('Mine.'), 'mine.txt')).body;
    const theirs = (await upload(otherMember.token, text('Theirs.'), 'theirs.txt')).body;
    const refused = await call('DELETE', `/api/kb/documents/${theirs.id}`, { token: member.token });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    expect((await call('DELETE', `/api/kb/documents/${mine.id}`, { token: member.token })).status).toBe(200);
    expect((await call('DELETE', `/api/kb/documents/${theirs.id}`, { token: manager.token })).status).toBe(200);
    expect(await rows(`SELECT id FROM kb_document WHERE id IN (:ids)`, { ids: [mine.id, theirs.id] })).toEqual([]);
  });

  it('API keys: a read key searches and lists, only a write key uploads', async () => {
    const mint = async (scopes: string[]) => (await call('POST', '/api/api-keys', { token: team.token, json: { name: scopes.join('+'), scopes } })).body.key as string;
    const readKey = await mint(['read']);
    const writeKey = await mint(['write']);
    expect((await upload(readKey, text('x'), 'x.txt')).status).toBe(403);
    expect((await call('GET', '/api/kb/documents', { token: readKey })).status).toBe(200);
    expect((await call('POST', '/api/kb/search', { token: readKey, json: { query: 'greenhouse' } })).status).toBe(200);
    expect((await upload(writeKey, text('Written with a key.'), 'key.txt')).status).toBe(201);
  });

  it('nothing without authentication', async () => {
    for (const [method, path] of [['GET', '/api/kb/documents'], ['POST', '/api/kb/documents'], ['GET', '/api/kb/search?q=x'], ['GET', '/api/kb/queries']])
      expect((await call(method!, path!)).status, path).toBe(401);
  });
});

describe('listing', () => {
  it('filters by status, tag and category, newest first, in pages', async () => {
    const t = await signupTeam();
    const a = await ingest(t.token, t.tenantId, text('Alpha.'), 'a.txt', { tags: ['HR', 'policy'], category: 'People' });
    const b = await ingest(t.token, t.tenantId, text('Beta.'), 'b.txt', { tags: ['policy'], category: 'Finance' });
    const failed = await ingest(t.token, t.tenantId, Buffer.from('%PDF-1.7\nbroken'), 'c.pdf', { tags: 'hr' });
    expect(failed.status).toBe('failed');

    const all = await call('GET', '/api/kb/documents', { token: t.token });
    expect(all.body.total).toBe(3);
    expect(all.body.documents.map((d: any) => d.id)).toEqual([failed.id, b.id, a.id]);
    const ids = async (qs: string) => (await call('GET', `/api/kb/documents?${qs}`, { token: t.token })).body.documents.map((d: any) => d.id);
    expect(await ids('status=failed')).toEqual([failed.id]);
    expect(await ids('status=indexed')).toEqual([b.id, a.id]);
    expect(await ids('tag=policy')).toEqual([b.id, a.id]);
    expect(await ids('tag=HR')).toEqual([failed.id, a.id]);
    expect(await ids('tag=hr&tag=policy')).toEqual([a.id]);
    expect(await ids('tag=hr,policy')).toEqual([a.id]);
    expect(await ids('category=Finance')).toEqual([b.id]);
    const page = await call('GET', '/api/kb/documents?limit=1&offset=1', { token: t.token });
    expect([page.body.total, page.body.documents.map((d: any) => d.id)]).toEqual([3, [b.id]]);
    expect((await call('GET', '/api/kb/documents?status=done', { token: t.token })).status).toBe(400);
  });
});

describe('upload validation', () => {
  it('refuses a body that is not a multipart form, a form without a file, and bad fields', async () => {
    const json = await call('POST', '/api/kb/documents', { token: team.token, json: { file: 'hello' } });
    expect([json.status, json.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const form = new FormData();
    form.append('title', 'No file');
    const noFile = await call('POST', '/api/kb/documents', { token: team.token, body: form });
    expect([noFile.status, noFile.body.error.code]).toEqual([400, 'file_required']);
    const badJson = await upload(team.token, text('x'), 'x.txt', { tags: '["unclosed' });
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'validation_error']);
    const tooMany = await upload(team.token, text('x'), 'x.txt', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'validation_error']);
    const longTitle = await upload(team.token, text('x'), 'x.txt', { title: 'x'.repeat(256) });
    expect([longTitle.status, longTitle.body.error.code]).toEqual([400, 'validation_error']);
    expect((await call('GET', '/api/kb/documents/not-a-uuid', { token: team.token })).status).toBe(400);
    const missing = await call('GET', '/api/kb/documents/00000000-0000-4000-8000-000000000000', { token: team.token });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'kb_document_not_found']);
  });

  it('names with paths or odd characters are kept for display and made safe for storage', async () => {
    const t = await signupTeam();
    const res = await upload(t.token, text('Odd name.'), 'C:\\fakepath\\Ré sumé (final) ../../x.txt');
    expect(res.status).toBe(201);
    expect(res.body.fileName).toBe('Ré sumé (final) ../../x.txt'.split('/').pop());
    const [row] = await rows(`SELECT file_url FROM kb_document WHERE id = :id`, { id: res.body.id });
    expect(row!.file_url).toMatch(new RegExp(`^${t.tenantId}/kb/${res.body.id}/[\\w.-]+\\.txt$`));
    await drain(t.tenantId);
    expect((await rows(`SELECT status FROM kb_document WHERE id = :id`, { id: res.body.id }))[0]!.status).toBe('indexed');
  });
});

describe('tools', () => {
  const ctx = (p: { tenantId: string; userId: string }, role: ToolContext['role'] = 'member'): ToolContext => ({ tenantId: p.tenantId, userId: p.userId, role, channel: 'api' });
  const tool = (name: string) => allTools().find((t) => t.name === name)!;

  it('are registered, read-only, and offered to viewers and read-only keys', () => {
    for (const name of ['search_knowledge_base', 'list_knowledge_documents']) {
      expect(tool(name)).toMatchObject({ readOnly: true, destructive: false, needsApproval: false, minRole: 'viewer' });
      expect(toolsFor({ role: 'viewer', scopes: ['read'] }).some((t) => t.name === name)).toBe(true);
    }
  });

  it('search_knowledge_base returns passages with citations; list_knowledge_documents lists', async () => {
    const t = await signupTeam();
    await ingest(t.token, t.tenantId, text('# Kitchen\n\nThe dishwasher runs every evening at nine.'), 'kitchen.md', { tags: ['office'] });
    const search = tool('search_knowledge_base');
    const out: any = await search.execute(search.inputSchema.parse({ query: 'when does the dishwasher run' }), ctx(t));
    expect(out.citations[0]).toMatchObject({ index: 1, title: 'Kitchen', page: 1 });
    expect(out.passages[0]).toMatchObject({ citation: 1, documentTitle: 'Kitchen', pageNumber: null });
    expect(search.outputSchema.parse(out)).toEqual(out);
    expect(search.intents.describe!(out)).toMatch(/^Here is what the knowledge base says about "when does the dishwasher run":\n\[1\] .*dishwasher/);

    const list = tool('list_knowledge_documents');
    const listed: any = await list.execute(list.inputSchema.parse({ tag: 'Office' }), ctx(t, 'viewer'));
    expect(listed.total).toBe(1);
    expect(listed.documents[0]).toMatchObject({ title: 'Kitchen', status: 'indexed', tags: ['office'] });
    expect(list.intents.describe!(listed)).toBe('The knowledge base has 1 document: Kitchen (indexed).');
  });

  it('the offline model finds them from the wording of a message', () => {
    const pick = (message: string) => allTools().find((t) => t.intents.patterns.some((p) => p.test(message)))?.name;
    expect(pick('What does our handbook say about parental leave?')).toBe('search_knowledge_base');
    expect(pick('According to the travel policy, how much is a hotel night?')).toBe('search_knowledge_base');
    expect(pick('Which documents are in the knowledge base?')).toBe('list_knowledge_documents');
    expect(tool('search_knowledge_base').intents.extract!('Search the knowledge base for: hotel rates')).toEqual({ query: 'hotel rates' });
  });
});
