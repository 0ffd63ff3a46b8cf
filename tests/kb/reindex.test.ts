// `npm run kb:reindex` on a scratch database of the engine under test (it alters kb_chunk, which the shared
// test database cannot afford): after the embedding model changes, chunks are re-embedded in resumable
// batches while search keeps answering; after the dimension changes, ingestion pauses until the column is
// altered and the HNSW index rebuilt, then everything works in the new dimension.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { uploadKbDocument } from '../../src/kb/documents.js';
import { OFFLINE_EMBEDDING_MODEL_ID } from '../../src/kb/offline-embedder.js';
import { reindexKnowledgeBase } from '../../src/kb/reindex.js';
import { searchKnowledgeBase } from '../../src/kb/search.js';
import { forgetVectorColumnDimensions, vectorColumnDimensions, vectorIndexExists } from '../../src/kb/vector-column.js';
import { drainKbQueue, processNextKbDocument } from '../../src/kb/worker.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';
import { signupTeam, testConfig, type Team } from '../support/harness.js';
import { corpusFiles } from './corpus.js';

const embedded = process.env.TEST_EMBEDDED === '1';
let database: Database;
let scratch: { adminUrl: string; name: string } | undefined;
let base: Config;
let team: Team;
let fake: FakeOpenAI;

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: scratch!.adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const q = <T extends object>(sql: string, replacements: Record<string, unknown> = {}) =>
  database.sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
const models = async () =>
  (await q<{ m: string | null; n: number }>(`SELECT embedding_model AS m, count(*)::int AS n FROM kb_chunk GROUP BY 1 ORDER BY 1`)).map((r) => [r.m, r.n]);

beforeAll(async () => {
  if (embedded) {
    base = testConfig({ DATABASE_URL: '' });
    setConfig(base);
    database = await openDatabase(base, { embeddedDir: 'memory://' });
  } else {
    const url = new URL(process.env.DATABASE_URL!);
    const adminUrl = new URL(url);
    adminUrl.pathname = '/postgres';
    scratch = { adminUrl: adminUrl.toString(), name: `flowspark_kbreindex_${randomBytes(6).toString('hex')}` };
    await admin(`CREATE DATABASE "${scratch.name}"`);
    url.pathname = `/${scratch.name}`;
    base = testConfig({ DATABASE_URL: url.toString() });
    setConfig(base);
    database = await openDatabase(base);
  }
  forgetVectorColumnDimensions();
  fake = await startFakeOpenAI({ dimensions: 384 });
  team = await signupTeam();
  for (const f of await corpusFiles()) await uploadKbDocument(team.auth, { buffer: f.buffer, fileName: f.fileName, title: f.title, tags: f.tags });
  await drainKbQueue({ tenantId: team.tenantId });
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await database?.close();
  if (scratch) await admin(`DROP DATABASE IF EXISTS "${scratch.name}" WITH (FORCE)`);
});

describe.sequential('kb:reindex', () => {
  it('after a model change: search keeps answering; re-embedding runs in batches and resumes after a stop', async () => {
    const chunks = (await models())[0]![1] as number;
    expect(await models()).toEqual([[OFFLINE_EMBEDDING_MODEL_ID, chunks]]);
    setConfig({ ...base, OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', EMBEDDING_MODEL: 'text-embedding-3-small' });

    // Not yet re-embedded: no vector is compared across models, full-text still finds the passage.
    const before = await searchKnowledgeBase(team.auth, 'hotel per night', { k: 3 });
    expect(before.passages[0]!.content).toContain('180 euros');
    expect(before.passages.every((p) => p.similarity === null)).toBe(true);

    const stop = new AbortController();
    const first = await reindexKnowledgeBase({ batchSize: 2, signal: stop.signal, onProgress: () => stop.abort() });
    expect(first).toMatchObject({ model: 'text-embedding-3-small', reembedded: 2, remaining: chunks - 2, changedDimensionsFrom: null, indexRebuilt: false });
    expect(await models()).toEqual([[OFFLINE_EMBEDDING_MODEL_ID, chunks - 2], ['text-embedding-3-small', 2]]);

    const second = await reindexKnowledgeBase({ batchSize: 2 });
    expect(second).toMatchObject({ reembedded: chunks - 2, remaining: 0 });
    expect(await models()).toEqual([['text-embedding-3-small', chunks]]);
    expect(await q(`SELECT DISTINCT embedding_model FROM kb_document WHERE tenant_id = :t`, { t: team.tenantId })).toEqual([{ embedding_model: 'text-embedding-3-small' }]);
    // The provider saw the chunks with their heading trail.
    const inputs = fake.requests.flatMap((r) => (r.input ? [r.input].flat() : [])) as string[];
    expect(inputs.some((i) => i.startsWith('Employee Handbook > Parental leave\n\n'))).toBe(true);

    const after = await searchKnowledgeBase(team.auth, 'hotel per night', { k: 3 });
    expect(after.passages.some((p) => p.similarity !== null)).toBe(true);
    expect(after.embeddingModel).toBe('text-embedding-3-small');
    expect(await reindexKnowledgeBase()).toMatchObject({ reembedded: 0, remaining: 0 });
  });

  it('after a dimension change: ingestion pauses, the column is altered and the index rebuilt, then all works', async () => {
    const dimsBefore = await vectorColumnDimensions();
    expect(dimsBefore).toBe(384);
    setConfig({ ...base, EMBEDDING_DIMENSIONS: 256 });
    forgetVectorColumnDimensions();

    const queued = await uploadKbDocument(team.auth, { buffer: Buffer.from('# Bikes\n\nBicycles are parked in the courtyard rack.'), fileName: 'bikes.md' });
    await expect(processNextKbDocument({ tenantId: team.tenantId })).rejects.toMatchObject({ code: 'kb_reindex_required' });
    const textOnly = await searchKnowledgeBase(team.auth, 'minimum password length', { k: 3 });
    expect(textOnly.strategy).toBe('text');
    expect(textOnly.passages[0]!.content).toContain('14 characters');

    const result = await reindexKnowledgeBase({ batchSize: 64 });
    expect(result).toMatchObject({ model: OFFLINE_EMBEDDING_MODEL_ID, dimensions: 256, changedDimensionsFrom: 384, remaining: 0, indexRebuilt: true });
    expect(await vectorColumnDimensions()).toBe(256);
    expect(await vectorIndexExists()).toBe(true);

    expect((await processNextKbDocument({ tenantId: team.tenantId }))?.documentId).toBe(queued.id);
    const r = await searchKnowledgeBase(team.auth, 'where are bicycles parked', { k: 3 });
    expect(r.strategy).toBe('exact');
    expect(r.passages[0]).toMatchObject({ documentId: queued.id });
    expect(r.passages[0]!.similarity).toBeGreaterThan(0);
    const hnsw = await searchKnowledgeBase(team.auth, 'where are bicycles parked', { k: 3, strategy: 'hnsw' });
    expect(hnsw.passages[0]!.documentId).toBe(queued.id);
  });

  it('npm run kb:reindex: nothing left to do, says so and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/kb-reindex.ts'], {
      env: { ...process.env, DATABASE_URL: database.url, EMBEDDING_DIMENSIONS: '256', OPENAI_BASE_URL: '', OPENAI_API_KEY: '', EMBEDDING_MODEL: '', LOG_LEVEL: 'silent', DB_POOL_MAX: '2' },
    });
    expect(stdout).toMatch(/model offline-hash-v1 \(256 dimensions\); re-embedded 0 chunks/);
  }, 60_000);
});
