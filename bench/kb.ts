// Knowledge-base benchmark on PostgreSQL (`npm run bench:kb [-- --reuse]`):
//  1. retrieval at 100,000 chunks over 50 tenants (one with 25%, one with 5%, one with 1%, the rest ~1.5%
//     each; topics shared across tenants, so a tenant's nearest neighbours in the whole table are mostly
//     other tenants' rows): vector p50/p95 and recall@10 against exact search, per strategy and ef_search,
//     for the 1%, a 1.5%, the 5% and the 25% tenant; and the full hybrid search as the API runs it;
//  2. ingestion throughput of a generated 200-page PDF through the real worker path (upload, claim, extract,
//     chunk, embed with the offline embedder, write), into the indexed 100k-row table.
// Synthetic chunks are bulk-inserted with the HNSW index dropped, then the index is built once (FACTS.md).
// DATABASE_URL, or postgres://postgres@127.0.0.1:5432/fs_bench (created, with pgvector, if missing).
// --reuse keeps the synthetic corpus of an earlier run when it is complete.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { QueryTypes } from 'sequelize';
import type { AuthContext } from '../src/auth/context.js';
import { signup } from '../src/auth/signup.js';
import { loadConfig, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { chunkDocument } from '../src/kb/chunk.js';
import { uploadKbDocument } from '../src/kb/documents.js';
import { extractText } from '../src/kb/extract/index.js';
import { createOfflineEmbedder, OFFLINE_EMBEDDING_MODEL_ID } from '../src/kb/offline-embedder.js';
import { EXACT_SEARCH_MAX_CHUNKS, HNSW_EF_SEARCH, nearestChunks, searchKnowledgeBase } from '../src/kb/search.js';
import { createVectorIndex, dropVectorIndex } from '../src/kb/vector-column.js';
import { processNextKbDocument } from '../src/kb/worker.js';
import { log } from '../src/log.js';
import { mulberry32 } from '../tests/support/random.js';
import { ensureBenchDatabase } from './support/database.js';

const TOTAL_CHUNKS = 100_000;
const TENANTS = 50;
const BIG = 25_000;
const SMALL = 1_000; // 1% of the rows
const MID = 5_000;
const DIMS = 384;
const QUERIES = 200;
const reuse = process.argv.includes('--reuse');

const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/fs_bench';
await ensureBenchDatabase(url);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-bench-kb-'));
// Offline embedder whatever the shell says; no statement timeout (the index build takes a while).
log.level = 'warn';
const cfg = loadConfig({
  ...process.env,
  DATABASE_URL: url,
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  OPENAI_API_KEY: '',
  OPENAI_BASE_URL: '',
  EMBEDDING_MODEL: '',
  EMBEDDING_DIMENSIONS: String(DIMS),
  DB_STATEMENT_TIMEOUT_MS: '0',
  DB_POOL_MAX: '5',
});
setConfig(cfg);
const database = await openDatabase(cfg);
const sql = database.sequelize;
const select = <T extends object>(q: string, replacements: Record<string, unknown> = {}) => sql.query<T>(q, { replacements, type: QueryTypes.SELECT });
const [{ v: pgvector }] = await select<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`) as [{ v: string }];
const [{ v: postgres }] = await select<{ v: string }>(`SHOW server_version`).then((r) => r.map((x: any) => ({ v: x.server_version }))) as [{ v: string }];
console.log(`PostgreSQL ${postgres}, pgvector ${pgvector}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} — ${url.replace(/\/\/[^@]*@/, '//')}`);

// ---- deterministic synthetic text ----------------------------------------------------------------------
const rand = mulberry32(20241124);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const SYLLABLES = 'ka ko ri ta ne mo lu sa vi de po mi ra to be fu ga li na zo re si pa du me'.split(' ');
const VOCAB = Array.from({ length: 20_000 }, () => Array.from({ length: 2 + Math.floor(rand() * 3) }, () => pick(SYLLABLES)).join(''));
// Zipf-like general vocabulary: low indexes are frequent.
const generalWord = () => VOCAB[Math.floor(VOCAB.length * rand() ** 3)]!;
const TOPICS = Array.from({ length: 200 }, () => Array.from({ length: 30 }, () => pick(VOCAB)));

function chunkText(topic: string[]): string {
  const words = Array.from({ length: 70 + Math.floor(rand() * 40) }, () => (rand() < 0.5 ? pick(topic) : generalWord()));
  const sentences: string[] = [];
  for (let i = 0; i < words.length; i += 12) sentences.push(`${words.slice(i, i + 12).join(' ')}.`);
  return sentences.join(' ');
}

// ---- 1. the corpus --------------------------------------------------------------------------------------
interface BenchTenant {
  id: string;
  userId: string;
  chunks: number;
}

async function benchTenants(): Promise<BenchTenant[]> {
  return select<BenchTenant>(
    `SELECT t.id, (SELECT u.id FROM core_user u WHERE u.tenant_id = t.id LIMIT 1) AS "userId",
            (SELECT count(*)::int FROM kb_chunk c WHERE c.tenant_id = t.id) AS chunks
       FROM core_tenant t WHERE t.name LIKE 'KB bench %' ORDER BY t.name`,
  );
}

let tenants = await benchTenants();
const complete = tenants.length === TENANTS + 1 && tenants.slice(0, TENANTS).reduce((n, t) => n + t.chunks, 0) === TOTAL_CHUNKS;
if (!reuse || !complete) {
  const t0 = performance.now();
  await dropVectorIndex(); // deleting and bulk-loading without it
  await sql.query(`DELETE FROM core_tenant WHERE name LIKE 'KB bench %'`);
  const rest = TOTAL_CHUNKS - BIG - SMALL - MID;
  const sizes = [BIG, SMALL, MID, ...Array.from({ length: TENANTS - 3 }, (_, i) => Math.floor(rest / (TENANTS - 3)) + (i < rest % (TENANTS - 3) ? 1 : 0))];
  const embedder = createOfflineEmbedder(DIMS);
  let inserted = 0;
  for (let i = 0; i < TENANTS; i++) {
    const name = `KB bench ${String(i).padStart(2, '0')}`;
    const { tenant, user } = await signup({ tenantName: name, email: `kb-bench-${i}-${Date.now()}@example.test`, password: 'Correct-Horse-Battery-9' }, {});
    const topics = Array.from({ length: 20 }, () => pick(TOPICS));
    for (let done = 0; done < sizes[i]!; ) {
      const n = Math.min(100, sizes[i]! - done); // documents of 100 chunks
      const [doc] = await select<{ id: string }>(
        `INSERT INTO kb_document (tenant_id, uploaded_by_id, title, file_name, file_url, file_type, file_size_bytes, status, total_chunks, total_pages, embedding_model)
         VALUES (:tenantId, :userId, :title, 'synthetic.txt', 'bench/none', 'text', 0, 'indexed', :n, NULL, :model) RETURNING id`,
        { tenantId: tenant.id, userId: user.id, title: `Synthetic ${done / 100}`, n, model: OFFLINE_EMBEDDING_MODEL_ID },
      );
      const topic = pick(topics);
      const texts = Array.from({ length: n }, () => chunkText(rand() < 0.8 ? topic : pick(topics)));
      const vectors = embedder.embed(texts);
      const rows = texts.map((content, k) => ({ content, chunkIndex: k, embedding: `[${vectors[k]!.map((x) => x.toFixed(6)).join(',')}]` }));
      await sql.query(
        `INSERT INTO kb_chunk (document_id, tenant_id, content, chunk_index, vector_db_id, metadata, embedding, embedding_model)
         SELECT :documentId, :tenantId, r->>'content', (r->>'chunkIndex')::int, 'bench', '{}', (r->>'embedding')::vector, :model
           FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r`,
        { replacements: { documentId: doc!.id, tenantId: tenant.id, rows: JSON.stringify(rows), model: OFFLINE_EMBEDDING_MODEL_ID } },
      );
      done += n;
      inserted += n;
    }
    process.stdout.write(`\rloaded ${inserted}/${TOTAL_CHUNKS} chunks`);
  }
  // The tenant the ingestion benchmark uploads into (kept out of the 100k).
  await signup({ tenantName: 'KB bench ingest', email: `kb-bench-ingest-${Date.now()}@example.test`, password: 'Correct-Horse-Battery-9' }, {});
  const loaded = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await sql.transaction(async (transaction) => {
    await sql.query(`SET LOCAL maintenance_work_mem = '1GB'`, { transaction });
    await sql.query(`SET LOCAL max_parallel_maintenance_workers = ${Math.max(0, Math.min(7, os.cpus().length - 1))}`, { transaction });
    await sql.query(`CREATE INDEX IF NOT EXISTS idx_chunk_embedding_hnsw ON kb_chunk USING hnsw (embedding vector_cosine_ops)`, { transaction });
  });
  const built = (performance.now() - t1) / 1000;
  await sql.query(`VACUUM ANALYZE kb_chunk`);
  await sql.query(`VACUUM ANALYZE kb_document`);
  console.log(`\nloaded ${TOTAL_CHUNKS} chunks (with offline embeddings) in ${loaded.toFixed(1)} s; HNSW index (m=16, ef_construction=64) built in ${built.toFixed(1)} s`);
  tenants = await benchTenants();
} else {
  await createVectorIndex();
  console.log('reusing the synthetic corpus of an earlier run');
}
// Documents a previous run's ingestion left behind are not part of the 100k.
await sql.query(`DELETE FROM kb_document WHERE tenant_id IN (SELECT id FROM core_tenant WHERE name = 'KB bench ingest')`);
const [{ n: tableRows }] = (await select<{ n: number }>(`SELECT count(*)::int AS n FROM kb_chunk`)) as [{ n: number }];

// ---- 2. retrieval --------------------------------------------------------------------------------------
const embedder = createOfflineEmbedder(DIMS);
const auth = (t: BenchTenant): AuthContext => ({ tenantId: t.id, userId: t.userId, role: 'member', email: '' });

async function queriesFor(t: BenchTenant): Promise<{ text: string; vector: number[] }[]> {
  const sample = await select<{ content: string }>(`SELECT content FROM kb_chunk WHERE tenant_id = :t ORDER BY md5(id::text) LIMIT :n`, { t: t.id, n: QUERIES });
  return sample.map(({ content }) => {
    const words = content.replace(/\./g, '').split(' ');
    const start = Math.floor(rand() * Math.max(1, words.length - 8));
    const text = words.slice(start, start + 6 + Math.floor(rand() * 4)).join(' ');
    return { text, vector: embedder.embed([text])[0]! };
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

interface Row {
  tenant: string;
  method: string;
  p50: number;
  p95: number;
  recall: number | null;
}
const results: Row[] = [];

const subjects: [string, BenchTenant][] = [
  [`1% tenant (${tenants[1]!.chunks} chunks)`, tenants[1]!],
  [`1.5% tenant (${tenants[3]!.chunks} chunks)`, tenants[3]!],
  [`5% tenant (${tenants[2]!.chunks} chunks)`, tenants[2]!],
  [`25% tenant (${tenants[0]!.chunks} chunks)`, tenants[0]!],
];
for (const [label, tenant] of subjects) {
  const queries = await queriesFor(tenant);
  // Warm up caches and connections.
  for (const q of queries.slice(0, 20)) {
    await nearestChunks(tenant.id, q.vector, { k: 10, model: OFFLINE_EMBEDDING_MODEL_ID, strategy: 'exact' });
    await nearestChunks(tenant.id, q.vector, { k: 10, model: OFFLINE_EMBEDDING_MODEL_ID, strategy: 'hnsw' });
  }
  const truth: Set<string>[] = [];
  const exactMs: number[] = [];
  for (const q of queries) {
    const [r, ms] = await timed(() => nearestChunks(tenant.id, q.vector, { k: 10, model: OFFLINE_EMBEDDING_MODEL_ID, strategy: 'exact' }));
    truth.push(new Set(r.map((x) => x.id)));
    exactMs.push(ms);
  }
  const auto = tenant.chunks <= EXACT_SEARCH_MAX_CHUNKS ? 'exact' : `hnsw ef_search=${HNSW_EF_SEARCH}`;
  results.push({ tenant: label, method: `exact scan${auto === 'exact' ? '  ← default' : ''}`, p50: pct(exactMs, 50), p95: pct(exactMs, 95), recall: 1 });
  for (const ef of [...new Set([40, 100, 200, 400, HNSW_EF_SEARCH])].sort((a, b) => a - b)) {
    const ms: number[] = [];
    let hits = 0;
    for (const [i, q] of queries.entries()) {
      const [r, t] = await timed(() => nearestChunks(tenant.id, q.vector, { k: 10, model: OFFLINE_EMBEDDING_MODEL_ID, strategy: 'hnsw', efSearch: ef }));
      ms.push(t);
      hits += r.filter((x) => truth[i]!.has(x.id)).length;
    }
    const isDefault = auto === `hnsw ef_search=${ef}`;
    results.push({ tenant: label, method: `HNSW iterative, ef_search=${ef}${isDefault ? '  ← default' : ''}`, p50: pct(ms, 50), p95: pct(ms, 95), recall: hits / (queries.length * 10) });
  }
  // The whole search as the API runs it: embed the query, scope, vector + full text, fuse, fetch, log.
  for (const logged of [false, true]) {
    const hybridMs: number[] = [];
    for (const q of queries) hybridMs.push((await timed(() => searchKnowledgeBase(auth(tenant), q.text, { k: 10, log: logged })))[1]);
    results.push({ tenant: label, method: `hybrid search (k=10${logged ? ', logged' : ', not logged'})`, p50: pct(hybridMs, 50), p95: pct(hybridMs, 95), recall: null });
  }
}

console.log(`\nretrieval: ${tableRows} chunks in kb_chunk, ${TENANTS} tenants, ${QUERIES} queries per tenant (top 10; recall@10 against the exact scan)`);
console.log(`${'tenant'.padEnd(26)} ${'method'.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'recall@10'.padStart(10)}`);
for (const r of results)
  console.log(`${r.tenant.padEnd(26)} ${r.method.padEnd(44)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${(r.recall === null ? '' : r.recall.toFixed(3)).padStart(10)}`);

// ---- 3. ingestion --------------------------------------------------------------------------------------
async function bigPdf(pages: number): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle('Benchmark manual');
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = pdf.addPage([595, 842]);
    const topic = pick(TOPICS);
    const words = chunkText(topic).split(' ').concat(chunkText(topic).split(' '), chunkText(topic).split(' '), chunkText(topic).split(' '), chunkText(topic).split(' '));
    let line = '';
    let y = 800;
    for (const w of words) {
      if (font.widthOfTextAtSize(`${line} ${w}`, 10) > 495) {
        page.drawText(line, { x: 50, y, size: 10, font });
        y -= 13;
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) page.drawText(line, { x: 50, y, size: 10, font });
  }
  return Buffer.from(await pdf.save());
}

const ingestTenant = (await select<BenchTenant>(
  `SELECT t.id, (SELECT u.id FROM core_user u WHERE u.tenant_id = t.id LIMIT 1) AS "userId", 0 AS chunks FROM core_tenant t WHERE t.name = 'KB bench ingest'`,
))[0]!;
await sql.query(`DELETE FROM kb_document WHERE tenant_id = :t`, { replacements: { t: ingestTenant.id } });
await sql.query(`UPDATE billing_subscription SET storage_used_gb = 0 WHERE tenant_id = :t`, { replacements: { t: ingestTenant.id } });
const pdf = await bigPdf(200);
const runs: { seconds: number; chunks: number; pages: number | null }[] = [];
for (let run = 0; run < 3; run++) {
  const doc = await uploadKbDocument(auth(ingestTenant), { buffer: pdf, fileName: 'manual.pdf' });
  const [next, ms] = await timed(() => processNextKbDocument({ tenantId: ingestTenant.id }));
  if (next?.outcome.status !== 'indexed') throw new Error(`ingestion failed: ${JSON.stringify(next?.outcome)}`);
  runs.push({ seconds: ms / 1000, chunks: next.outcome.chunks, pages: next.outcome.pages });
  if (run < 2) await sql.query(`DELETE FROM kb_document WHERE id = :id`, { replacements: { id: doc.id } });
}
// Where the time goes, measured on the same file outside the worker.
const [extracted, extractMs] = await timed(() => extractText({ buffer: pdf, fileName: 'manual.pdf' }));
const [chunks, chunkMs] = await timed(async () => chunkDocument(extracted.pages));
const [, embedMs] = await timed(async () => embedder.embed(chunks.map((c) => c.content)));
const median = runs.map((r) => r.seconds).sort((a, b) => a - b)[1]!;
const r0 = runs[0]!;
console.log(
  `\ningestion: ${(pdf.length / 1024).toFixed(0)} KB PDF, ${r0.pages} pages → ${r0.chunks} chunks, through upload + worker, into the indexed ${tableRows}-row table` +
    `\n  median of 3: ${median.toFixed(2)} s = ${(r0.chunks / median).toFixed(0)} chunks/s, ${(r0.pages! / median).toFixed(0)} pages/s (runs: ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s)` +
    `\n  of which, measured alone: extract ${(extractMs / 1000).toFixed(2)} s, chunk ${(chunkMs / 1000).toFixed(2)} s, embed ${(embedMs / 1000).toFixed(2)} s; the rest is writing (HNSW inserts) and bookkeeping`,
);

await database.close();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);

