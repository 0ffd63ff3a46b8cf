// Hybrid retrieval over the caller's knowledge base: nearest neighbours by cosine distance (pgvector) and
// full-text matches (PostgreSQL tsvector), fused with reciprocal rank fusion, always within the caller's
// tenant and over indexed documents only. Every search is logged in kb_query.
//
// How the vector side is searched depends on how many chunks the search covers:
//  - few (≤ EXACT_SEARCH_MAX_CHUNKS): an exact scan of just those rows (found through idx_chunk_tenant):
//    exact, and at that size as fast as walking a graph built for the whole table (bench/kb.ts);
//  - many: the HNSW index with pgvector 0.8's iterative scan (relaxed order), so the tenant filter applied
//    while walking the graph still yields enough rows, re-sorted by distance afterwards.
// Full-text matching takes the passages holding all of the query's words, or when there are none (a natural
// question rarely has every word in one passage) those holding any, ranked by cover density, so passages
// with more of the words, closer together, come first. A query in web-search syntax ("quoted phrase", or,
// -word) is taken as such. Small scopes are filtered row by row rather than through the GIN index.
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import { embedder, toVectorLiteral } from '../agents/embeddings.js';
import { countTokens } from '../agents/tokenizer.js';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { db } from '../db/index.js';
import { badRequest } from '../errors.js';
import { log } from '../log.js';
import { SearchKSchema, SearchQuerySchema } from './schemas.js';
import { cachedVectorColumnDimensions } from './vector-column.js';

/**
 * Up to this many chunks in scope, the vector side is an exact scan. bench/kb.ts (PostgreSQL 15, 100k
 * chunks): an exact scan costs about 2 µs a chunk (5k chunks: p50 10 ms, p95 19 ms), while HNSW over a
 * tenant holding a few percent of the table recalls only 0.87-0.92 of the true top 10.
 */
export const EXACT_SEARCH_MAX_CHUNKS = 6_000;
/**
 * Up to this many chunks in scope, full-text candidates are found by filtering the tenant's rows one by one
 * rather than through the GIN index, whose posting lists for common words span every tenant (bench/kb.ts:
 * at 1,000 chunks the filter wins; at 5,000 the GIN index does).
 */
export const FULLTEXT_SCAN_MAX_CHUNKS = 2_000;
/**
 * HNSW candidate list size; iterative scans extend the search when the tenant filter drops rows. For a
 * tenant with 25% of 100k chunks (bench/kb.ts): ef 100 → recall@10 0.79, ef 400 → 0.90 at p95 18 ms.
 */
export const HNSW_EF_SEARCH = 400;
/** Reciprocal rank fusion constant (Cormack et al.): damps the weight of the very top ranks. */
export const RRF_K = 60;
export const DEFAULT_K = 5;

export interface SearchKnowledgeBaseOptions {
  k?: number;
  /** Search only these documents (of the caller's tenant; others are ignored). */
  documentIds?: string[];
  /** Search only documents carrying at least one of these tags. */
  tags?: string[];
  /**
   * Force the plan for a small scope ('exact': exact vector scan, full text filtered row by row) or a large
   * one ('hnsw': HNSW index, GIN index) — benchmarks and tests; by default it follows the chunks in scope.
   */
  strategy?: 'auto' | 'exact' | 'hnsw';
  /** Skip the kb_query log row (benchmarks of the raw retrieval). */
  log?: boolean;
}

export interface KbPassage {
  chunkId: string;
  documentId: string;
  documentTitle: string;
  /** The PDF page the passage is on; null for formats without pages. */
  pageNumber: number | null;
  chunkIndex: number;
  headings: string[];
  /** Fused score (sum of 1/(60 + rank) over the lists the passage is in). */
  score: number;
  /** Cosine similarity to the query, when the passage came up in the vector search. */
  similarity: number | null;
  snippet: string;
  content: string;
  /** Index (1-based) of the passage's entry in `citations`. */
  citation: number;
}

export interface KbCitation {
  index: number;
  title: string;
  /** The page to cite: the PDF page, or 1 for formats without pages (the document counts as one page). */
  page: number;
  documentId: string;
  snippet: string;
}

export interface KbSearchResult {
  query: string;
  queryId: string | null;
  /** One entry per document page the passages come from, in order of first use. */
  citations: KbCitation[];
  passages: KbPassage[];
  retrievalTimeSeconds: number;
  embeddingModel: string;
  strategy: 'exact' | 'hnsw' | 'text';
}

/** How many candidates each list contributes to the fusion for `k` results. */
export const candidateDepth = (k: number) => Math.min(Math.max(k * 4, 20), 100);

interface Candidate {
  id: string;
  rank: number;
  distance?: number;
}

export async function searchKnowledgeBase(
  auth: AuthContext,
  query: string,
  opts: SearchKnowledgeBaseOptions = {},
): Promise<KbSearchResult> {
  authorize(policies.read(auth));
  const parsedQuery = SearchQuerySchema.safeParse(query);
  if (!parsedQuery.success) throw badRequest('invalid_query', 'Type what to search for (up to 2000 characters).');
  const text = parsedQuery.data;
  const parsedK = SearchKSchema.safeParse(opts.k ?? DEFAULT_K);
  if (!parsedK.success) throw badRequest('invalid_k', 'k is the number of passages wanted, from 1 to 50.');
  const k = parsedK.data;
  const started = performance.now();

  const e = embedder();
  const columnDims = await cachedVectorColumnDimensions();
  const vectorUsable = columnDims === null || columnDims === e.dimensions;
  if (!vectorUsable) log.warn({ columnDims, embedder: e.dimensions }, 'kb search without vectors: run "npm run kb:reindex"');
  // Embedding may call a provider: done before the transaction opens.
  const queryVector = vectorUsable ? (await e.embed([text]))[0]! : null;

  const depth = candidateDepth(k);
  return db().transaction(async (transaction) => {
    // The log row is telemetry: losing the last instant of it in a crash is acceptable, waiting for the WAL
    // flush on every search (measured ~10 ms here) is not. Data written elsewhere is unaffected.
    if (opts.log !== false) await db().query('SET LOCAL synchronous_commit = off', { transaction });
    const scope = await searchScope(auth.tenantId, opts, transaction);
    let vector: Candidate[] = [];
    let fulltext: Candidate[] = [];
    let strategy: KbSearchResult['strategy'] = 'text';
    if (scope.chunks > 0) {
      if (queryVector) {
        strategy = opts.strategy && opts.strategy !== 'auto' ? opts.strategy : scope.chunks <= EXACT_SEARCH_MAX_CHUNKS ? 'exact' : 'hnsw';
        vector = await vectorCandidates(auth.tenantId, scope.documentIds, queryVector, e.modelId, depth, strategy, transaction);
      }
      const tenantScan = opts.strategy === 'exact' || (opts.strategy !== 'hnsw' && scope.chunks <= FULLTEXT_SCAN_MAX_CHUNKS);
      fulltext = await fullTextCandidates(auth.tenantId, scope.documentIds, text, depth, tenantScan, transaction);
    }
    const fused = fuse([vector, fulltext]);
    const distances = new Map(vector.map((c) => [c.id, c.distance!]));
    const rows = fused.length ? await fetchPassages(auth.tenantId, fused.slice(0, k * 2).map((f) => f.id), transaction) : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const citations: KbCitation[] = [];
    const passages: KbPassage[] = [];
    for (const f of fused) {
      const r = byId.get(f.id);
      if (!r) continue; // its document is not indexed (being reprocessed) or was deleted meanwhile
      if (passages.length === k) break;
      const snippet = makeSnippet(r.content, text);
      const page = r.page_number ?? 1;
      let citation = citations.find((c) => c.documentId === r.document_id && c.page === page);
      if (!citation) {
        citation = { index: citations.length + 1, title: r.title, page, documentId: r.document_id, snippet };
        citations.push(citation);
      }
      const distance = distances.get(f.id);
      passages.push({
        chunkId: r.id,
        documentId: r.document_id,
        documentTitle: r.title,
        pageNumber: r.page_number,
        chunkIndex: r.chunk_index,
        headings: Array.isArray(r.metadata?.headings) ? r.metadata.headings : [],
        score: round(f.score, 6),
        similarity: distance === undefined ? null : round(1 - distance, 4),
        snippet,
        content: r.content,
        citation: citation.index,
      });
    }
    const retrievalTimeSeconds = (performance.now() - started) / 1000;

    let queryId: string | null = null;
    if (opts.log !== false) {
      queryId = randomUUID();
      const tokens = queryVector ? countTokens(text) : 0;
      // The kb_query row and its analytics_usage row in one round trip.
      await db().query(
        `WITH logged AS (
           INSERT INTO kb_query (id, tenant_id, queried_by_id, query_text, retrieved_chunks, retrieval_time_seconds, embedding_model, llm_model, tokens_used, created_at)
           VALUES (:queryId, :tenantId, :userId, :text, CAST(:chunks AS jsonb), :seconds, :model, NULL, :tokens, NOW())
           RETURNING id)
         INSERT INTO analytics_usage (tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, created_at)
         SELECT :tenantId, :userId, 'kb_query', :tokens, :seconds, CAST(:usage AS jsonb), NOW() FROM logged`,
        {
          replacements: {
            queryId,
            tenantId: auth.tenantId,
            userId: auth.userId,
            text,
            chunks: JSON.stringify(passages.map((p) => p.chunkId)),
            seconds: retrievalTimeSeconds,
            model: queryVector ? e.modelId : null,
            tokens,
            usage: JSON.stringify({ queryId, results: passages.length, strategy }),
          },
          transaction,
        },
      );
    }
    return { query: text, queryId, citations, passages, retrievalTimeSeconds, embeddingModel: e.modelId, strategy };
  });
}

/** Which documents the search covers and how many chunks they hold (the choice of strategy rests on it). */
async function searchScope(
  tenantId: string,
  opts: SearchKnowledgeBaseOptions,
  transaction: Transaction,
): Promise<{ chunks: number; documentIds: string[] | null }> {
  const filtered = !!(opts.documentIds?.length || opts.tags?.length);
  if (!filtered) {
    const [row] = await db().query<{ chunks: number }>(
      `SELECT COALESCE(SUM(total_chunks), 0)::int AS chunks FROM kb_document WHERE tenant_id = :tenantId AND status = 'indexed'`,
      { replacements: { tenantId }, type: QueryTypes.SELECT, transaction },
    );
    return { chunks: row?.chunks ?? 0, documentIds: null };
  }
  const docs = await db().query<{ id: string; total_chunks: number }>(
    `SELECT id, total_chunks FROM kb_document
      WHERE tenant_id = :tenantId AND status = 'indexed'
        ${opts.documentIds?.length ? 'AND id IN (:documentIds)' : ''}
        ${opts.tags?.length ? 'AND tags ?| ARRAY[:tags]::text[]' : ''}`,
    { replacements: { tenantId, documentIds: opts.documentIds ?? [], tags: opts.tags ?? [] }, type: QueryTypes.SELECT, transaction },
  );
  return { chunks: docs.reduce((n, d) => n + (d.total_chunks ?? 0), 0), documentIds: docs.map((d) => d.id) };
}

const documentFilter = (documentIds: string[] | null) => (documentIds ? 'AND c.document_id = ANY(CAST(:documentIds AS uuid[]))' : '');
const uuidArray = (ids: string[] | null) => (ids ? `{${ids.join(',')}}` : null);

async function vectorCandidates(
  tenantId: string,
  documentIds: string[] | null,
  queryVector: number[],
  model: string,
  depth: number,
  strategy: 'exact' | 'hnsw',
  transaction: Transaction,
  efSearch = Math.max(HNSW_EF_SEARCH, depth),
): Promise<Candidate[]> {
  const run = (sql: string) => db().query(sql, { transaction });
  if (strategy === 'exact') {
    await run('SET LOCAL enable_indexscan = off'); // the planner would otherwise walk the HNSW graph
  } else {
    await run(`SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}`);
    if (await supportsIterativeScan(transaction)) await run(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
  }
  // Relaxed order may return neighbours slightly out of order: the materialised top list is re-sorted.
  const rows = await db().query<{ id: string; distance: number }>(
    `WITH nearest AS MATERIALIZED (
       SELECT c.id, c.embedding <=> CAST(:vector AS vector) AS distance
         FROM kb_chunk c
        WHERE c.tenant_id = :tenantId AND c.embedding_model = :model ${documentFilter(documentIds)}
        ORDER BY c.embedding <=> CAST(:vector AS vector)
        LIMIT :depth)
     SELECT id, distance FROM nearest ORDER BY distance, id`,
    {
      replacements: { tenantId, model, vector: toVectorLiteral(queryVector), depth, documentIds: uuidArray(documentIds) },
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  if (strategy === 'exact') await run('SET LOCAL enable_indexscan = on');
  return rows.map((r, i) => ({ id: r.id, rank: i + 1, distance: Number(r.distance) }));
}

/**
 * The vector side alone, as the search runs it, for benchmarks and diagnostics: the tenant's `k` nearest
 * chunks to `queryVector` (embedded by `model`) among the candidateDepth(k) fetched, in its own transaction.
 */
export async function nearestChunks(
  tenantId: string,
  queryVector: number[],
  opts: { k: number; model: string; strategy: 'exact' | 'hnsw'; efSearch?: number },
): Promise<{ id: string; distance: number }[]> {
  const depth = candidateDepth(opts.k);
  const found = await db().transaction((transaction) =>
    vectorCandidates(tenantId, null, queryVector, opts.model, depth, opts.strategy, transaction, opts.efSearch ?? Math.max(HNSW_EF_SEARCH, depth)),
  );
  return found.slice(0, opts.k).map((c) => ({ id: c.id, distance: c.distance! }));
}

/** Web-search syntax when the user wrote some; otherwise any of the query's words. */
const usesSearchSyntax = (q: string) => /"|(^|\s)-\w|\sor\s/i.test(q);

const ALL_WORDS = `websearch_to_tsquery('english', :query)`;
const ANY_WORD = `CAST(replace(CAST(websearch_to_tsquery('english', :query) AS text), ' & ', ' | ') AS tsquery)`;

/**
 * Passages holding every word of the query when there are any (cheap: few rows match, and they are the
 * best full-text matches anyway), else passages holding any of them, ranked by cover density. A small
 * scope is read through the tenant index and filtered row by row; a large one goes through the GIN index.
 */
async function fullTextCandidates(
  tenantId: string,
  documentIds: string[] | null,
  query: string,
  depth: number,
  tenantScan: boolean,
  transaction: Transaction,
): Promise<Candidate[]> {
  // OFFSET 0 fences the subquery: the planner cannot push the @@ test down into a GIN scan.
  const source = tenantScan
    ? `(SELECT c.id, c.search_vector FROM kb_chunk c WHERE c.tenant_id = :tenantId ${documentFilter(documentIds)} OFFSET 0) AS c`
    : 'kb_chunk c';
  const where = tenantScan ? 'TRUE' : `c.tenant_id = :tenantId ${documentFilter(documentIds)}`;
  const run = async (tsquery: string) =>
    (
      await db().query<{ id: string }>(
        `SELECT c.id
           FROM ${source} CROSS JOIN (SELECT ${tsquery} AS q) AS s
          WHERE ${where} AND c.search_vector @@ s.q
          ORDER BY ts_rank_cd(c.search_vector, s.q, 1) DESC, c.id
          LIMIT :depth`,
        { replacements: { tenantId, query, depth, documentIds: uuidArray(documentIds) }, type: QueryTypes.SELECT, transaction },
      )
    ).map((r, i) => ({ id: r.id, rank: i + 1 }));
  if (usesSearchSyntax(query)) return run(ALL_WORDS);
  const all = await run(ALL_WORDS);
  return all.length ? all : run(ANY_WORD);
}

/** Reciprocal rank fusion: score = Σ 1 / (RRF_K + rank) over the lists a chunk appears in. */
export function fuse(lists: Candidate[][]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists) for (const c of list) scores.set(c.id, (scores.get(c.id) ?? 0) + 1 / (RRF_K + c.rank));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

interface PassageRow {
  id: string;
  document_id: string;
  title: string;
  content: string;
  chunk_index: number;
  page_number: number | null;
  metadata: { headings?: string[] } | null;
}

function fetchPassages(tenantId: string, ids: string[], transaction: Transaction) {
  return db().query<PassageRow>(
    `SELECT c.id, c.document_id, d.title, c.content, c.chunk_index, c.page_number, c.metadata
       FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id
      WHERE c.id IN (:ids) AND c.tenant_id = :tenantId AND d.tenant_id = :tenantId AND d.status = 'indexed'`,
    { replacements: { tenantId, ids }, type: QueryTypes.SELECT, transaction },
  );
}

let iterativeScan: boolean | undefined;

/** hnsw.iterative_scan exists from pgvector 0.8.0; on older versions the search runs without it. */
async function supportsIterativeScan(transaction: Transaction): Promise<boolean> {
  if (iterativeScan === undefined) {
    const [row] = await db().query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`, {
      type: QueryTypes.SELECT,
      transaction,
    });
    const [major = 0, minor = 0] = (row?.v ?? '0.0').split('.').map(Number);
    iterativeScan = major > 0 || minor >= 8;
    if (!iterativeScan) log.warn({ pgvector: row?.v }, 'pgvector < 0.8: HNSW searches run without iterative scans');
  }
  return iterativeScan;
}

const SNIPPET_CHARS = 280;
const WORD = /[\p{L}\p{N}]+/gu;

/** The sentence-aligned window of the passage with the most query words, about SNIPPET_CHARS long. */
export function makeSnippet(content: string, query: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  if (flat.length <= SNIPPET_CHARS) return flat;
  const terms = new Set((query.toLowerCase().match(WORD) ?? []).filter((w) => w.length > 2).map((w) => w.slice(0, 5)));
  const starts = [0, ...[...flat.matchAll(/[.!?]\s+(?=\S)/g)].map((m) => m.index! + m[0].length)];
  let best = 0;
  let bestHits = -1;
  for (const start of starts) {
    const window = flat.slice(start, start + SNIPPET_CHARS).toLowerCase();
    const hits = (window.match(WORD) ?? []).filter((w) => terms.has(w.slice(0, 5))).length;
    // On a tie the later start wins: the same words, nearer the beginning of the snippet.
    if (hits > 0 && hits >= bestHits) [best, bestHits] = [start, hits];
  }
  const cut = flat.slice(best, best + SNIPPET_CHARS);
  const end = cut.length < flat.length - best ? cut.replace(/\s+\S*$/, '') + '…' : cut;
  return (best > 0 ? '…' : '') + end;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
