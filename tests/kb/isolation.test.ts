// Tenant isolation of the knowledge base: team A, by session or API key, through every route, both tools
// and the chat agent, never sees nor changes team B's documents, chunks or searches — not by id, not by
// search (even naming B's document ids as a filter), not through a tool. B's rows are unchanged afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import { searchKnowledgeBase } from '../../src/kb/search.js';
import { allTools } from '../../src/tools/index.js';
import { chat, textOf } from '../chat/support/chat.js';
import { call, signupTeam, useTestApp, type Team } from '../support/harness.js';
import { ingest, rows } from './support.js';

useTestApp();

const SECRET = 'The merger with Globex closes on 14 March; the code name is BLUE HERON.';
let a: Team;
let b: Team;
let aKey: string;
let bDoc: string;
let bQuery: string;

const snapshotB = async () => ({
  documents: await rows(`SELECT * FROM kb_document WHERE tenant_id = :t ORDER BY id`, { t: b.tenantId }),
  chunks: await rows(`SELECT id, document_id, content, chunk_index, embedding::text AS embedding FROM kb_chunk WHERE tenant_id = :t ORDER BY id`, { t: b.tenantId }),
  queries: await rows(`SELECT * FROM kb_query WHERE tenant_id = :t ORDER BY id`, { t: b.tenantId }),
  storage: await rows(`SELECT storage_used_gb FROM billing_subscription WHERE tenant_id = :t`, { t: b.tenantId }),
});

beforeAll(async () => {
  a = await signupTeam();
  b = await signupTeam();
  await ingest(a.token, a.tenantId, Buffer.from('# Canteen\n\nThe canteen serves lunch from noon.'), 'canteen.md', { tags: ['shared-tag'] });
  bDoc = (await ingest(b.token, b.tenantId, Buffer.from(`# Merger\n\n${SECRET}`), 'merger.md', { tags: ['shared-tag'] })).id;
  bQuery = (await call('POST', '/api/kb/search', { token: b.token, json: { query: 'merger code name' } })).body.queryId;
  aKey = (await call('POST', '/api/api-keys', { token: a.token, json: { name: 'A bot', scopes: ['read', 'write'] } })).body.key;
}, 60_000);

describe('knowledge-base isolation', () => {
  for (const via of ['session', 'api key'] as const) {
    it(`team A (${via}) cannot read, delete or reprocess B's document by id`, async () => {
      const token = via === 'session' ? a.token : aKey;
      const before = await snapshotB();
      for (const [method, path] of [
        ['GET', `/api/kb/documents/${bDoc}`],
        ['DELETE', `/api/kb/documents/${bDoc}`],
        ['POST', `/api/kb/documents/${bDoc}/reprocess`],
      ] as const) {
        const res = await call(method, path, { token });
        expect([res.status, res.body.error.code], `${method} ${path}`).toEqual([404, 'kb_document_not_found']);
      }
      expect(await snapshotB()).toEqual(before);
    });

    it(`team A (${via}) finds nothing of B's by search, list or query log, even naming B's document`, async () => {
      const token = via === 'session' ? a.token : aKey;
      const before = await snapshotB();
      const list = await call('GET', '/api/kb/documents?limit=100', { token });
      expect(list.body.documents.map((d: any) => d.title)).toEqual(['Canteen']);
      const tagged = await call('GET', '/api/kb/documents?tag=shared-tag', { token });
      expect(tagged.body.total).toBe(1);

      for (const query of ['merger Globex code name', 'BLUE HERON', SECRET]) {
        const get = await call('GET', `/api/kb/search?q=${encodeURIComponent(query)}&k=50`, { token });
        expect(get.status).toBe(200);
        expect(JSON.stringify([get.body.passages, get.body.citations])).not.toMatch(/HERON|Globex|Merger/); // the query is echoed, nothing else
        const named = await call('POST', '/api/kb/search', { token, json: { query, documentIds: [bDoc], k: 50 } });
        expect(named.body.passages).toEqual([]);
        const byTag = await call('POST', '/api/kb/search', { token, json: { query, tags: ['shared-tag'] } });
        expect(byTag.body.passages.every((p: any) => p.documentTitle === 'Canteen')).toBe(true);
      }
      const log = await call('GET', '/api/kb/queries?limit=100', { token });
      expect(log.body.queries.map((q: any) => q.id)).not.toContain(bQuery);
      expect(JSON.stringify(log.body)).not.toMatch(/merger code name/);
      expect(await snapshotB()).toEqual(before);
    });
  }

  it('the tools run in the caller’s tenant only, whatever the arguments say', async () => {
    const before = await snapshotB();
    const ctx = { tenantId: a.tenantId, userId: a.userId, role: 'owner' as const, channel: 'mcp' as const };
    const search = allTools().find((t) => t.name === 'search_knowledge_base')!;
    // Extra keys a model might invent (tenantId) are stripped by the schema; documentIds of B match nothing.
    const input = search.inputSchema.parse({ query: 'merger code name BLUE HERON', documentIds: [bDoc], tenantId: b.tenantId });
    expect(await search.execute(input, ctx)).toMatchObject({ passages: [], citations: [] });
    const open: any = await search.execute(search.inputSchema.parse({ query: 'BLUE HERON merger Globex', k: 10 }), ctx);
    expect(JSON.stringify([open.passages, open.citations])).not.toMatch(/HERON|Globex/);
    const list = allTools().find((t) => t.name === 'list_knowledge_documents')!;
    const listed: any = await list.execute(list.inputSchema.parse({ tag: 'shared-tag' }), ctx);
    expect(listed.documents.map((d: any) => d.title)).toEqual(['Canteen']);
    expect(await snapshotB()).toEqual(before);
  });

  it('the chat agent of team A cannot surface B’s passages', async () => {
    const { message } = await chat(a.token, { message: 'What does our knowledge base say about the merger code name?' });
    const text = textOf(message);
    expect(text).not.toMatch(/HERON|Globex/);
    // B asking the same gets its own document, cited.
    const own = await searchKnowledgeBase(b.auth, 'merger code name', { log: false });
    expect(own.passages[0]!.content).toContain('BLUE HERON');
  });

  it('chunks always carry their document’s tenant', async () => {
    const mismatched = await rows(
      `SELECT c.id FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id WHERE c.tenant_id <> d.tenant_id AND d.tenant_id IN (:t)`,
      { t: [a.tenantId, b.tenantId] },
    );
    expect(mismatched).toEqual([]);
  });
});
