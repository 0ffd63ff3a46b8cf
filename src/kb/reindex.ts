// Re-embed the knowledge base with the configured embedder (`npm run kb:reindex`), e.g. after
// EMBEDDING_MODEL or EMBEDDING_DIMENSIONS changed. Chunks remember the model that embedded them
// (kb_chunk.embedding_model), so the work is "every chunk whose model is not the current one", done in
// batches (embed outside any transaction, write each batch in a short one): stopping at any point and
// running again continues where it stopped. A dimension change first alters the column (clearing the old
// vectors, which cannot be cast). For a large share of the table the HNSW index is dropped and built once
// at the end, which is much cheaper than maintaining it through every update; a run that finds it missing
// (an earlier run was interrupted) builds it at the end too. Retrieval keeps working meanwhile: full-text
// always, vectors for chunks already re-embedded (it never compares vectors of two models).
import { QueryTypes } from 'sequelize';
import { embedder } from '../agents/embeddings.js';
import { db } from '../db/index.js';
import { log } from '../log.js';
import { embeddingInput } from './ingest.js';
import {
  changeVectorDimensions,
  createVectorIndex,
  dropVectorIndex,
  forgetVectorColumnDimensions,
  vectorColumnDimensions,
  vectorIndexExists,
} from './vector-column.js';

export interface ReindexOptions {
  batchSize?: number;
  /** Stop after the current batch (the next run resumes). */
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface ReindexResult {
  model: string;
  dimensions: number;
  /** The column's dimension before, when it had to change. */
  changedDimensionsFrom: number | null;
  reembedded: number;
  remaining: number;
  indexRebuilt: boolean;
  seconds: number;
}

/** Above this share of the table (and this many chunks), the index is rebuilt rather than maintained. */
const REBUILD_SHARE = 0.2;
const REBUILD_MIN_CHUNKS = 1000;

export async function reindexKnowledgeBase(opts: ReindexOptions = {}): Promise<ReindexResult> {
  const started = performance.now();
  const e = embedder();
  const batchSize = opts.batchSize ?? 128;

  const columnDims = await vectorColumnDimensions();
  let changedDimensionsFrom: number | null = null;
  if (columnDims !== null && columnDims !== e.dimensions) {
    log.info({ from: columnDims, to: e.dimensions }, 'kb reindex: changing the vector column dimension');
    await changeVectorDimensions(e.dimensions);
    changedDimensionsFrom = columnDims;
  }

  const [counts] = await db().query<{ total: number; todo: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM :model)::int AS todo FROM kb_chunk`,
    { replacements: { model: e.modelId }, type: QueryTypes.SELECT },
  );
  const total = counts!.todo;
  let rebuild = !(await vectorIndexExists());
  if (!rebuild && total >= REBUILD_MIN_CHUNKS && total >= counts!.total * REBUILD_SHARE) {
    await dropVectorIndex();
    rebuild = true;
  }

  let done = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  while (!opts.signal?.aborted) {
    const batch = await db().query<{ id: string; content: string; metadata: { headings?: string[] } | null }>(
      `SELECT id, content, metadata FROM kb_chunk
        WHERE (embedding IS NULL OR embedding_model IS DISTINCT FROM :model) AND id > :after
        ORDER BY id LIMIT :batchSize`,
      { replacements: { model: e.modelId, after, batchSize }, type: QueryTypes.SELECT },
    );
    if (!batch.length) break;
    const vectors = await e.embed(batch.map((c) => embeddingInput(c.content, c.metadata?.headings)));
    const rows = batch.map((c, i) => ({ id: c.id, e: `[${vectors[i]!.join(',')}]` }));
    await db().transaction((transaction) =>
      db().query(
        `UPDATE kb_chunk c SET embedding = CAST(v.e AS vector), embedding_model = :model
           FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id uuid, e text)
          WHERE c.id = v.id`,
        { replacements: { model: e.modelId, rows: JSON.stringify(rows) }, transaction },
      ),
    );
    done += batch.length;
    after = batch[batch.length - 1]!.id;
    opts.onProgress?.({ done, total });
  }

  const [left] = await db().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM kb_chunk WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM :model`,
    { replacements: { model: e.modelId }, type: QueryTypes.SELECT },
  );
  // Documents whose every chunk now carries the model say so.
  await db().query(
    `UPDATE kb_document d SET embedding_model = :model, updated_at = NOW()
      WHERE d.status = 'indexed' AND d.embedding_model IS DISTINCT FROM :model
        AND NOT EXISTS (SELECT 1 FROM kb_chunk c WHERE c.document_id = d.id AND (c.embedding IS NULL OR c.embedding_model IS DISTINCT FROM :model))`,
    { replacements: { model: e.modelId } },
  );
  let indexRebuilt = false;
  if (rebuild && left!.n === 0) {
    log.info('kb reindex: building the HNSW index');
    await createVectorIndex();
    indexRebuilt = true;
  }
  forgetVectorColumnDimensions();
  return {
    model: e.modelId,
    dimensions: e.dimensions,
    changedDimensionsFrom,
    reembedded: done,
    remaining: left!.n,
    indexRebuilt,
    seconds: (performance.now() - started) / 1000,
  };
}
