// The kb_chunk.embedding column has one fixed dimension (EMBEDDING_DIMENSIONS when migrated). When the
// configured embedder disagrees, nothing can be written or searched by vector until `npm run kb:reindex`
// changes the column; these helpers detect that and perform the change.
import { QueryTypes, type Transaction } from 'sequelize';
import type { Embedder } from '../agents/embeddings.js';
import { db } from '../db/index.js';
import { AppError } from '../errors.js';

export const VECTOR_INDEX = 'idx_chunk_embedding_hnsw';

/** The declared dimension of kb_chunk.embedding (pgvector keeps it in atttypmod), or null if unconstrained. */
export async function vectorColumnDimensions(transaction?: Transaction): Promise<number | null> {
  const [row] = await db().query<{ dims: number }>(
    `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = 'kb_chunk'::regclass AND attname = 'embedding' AND NOT attisdropped`,
    { type: QueryTypes.SELECT, transaction },
  );
  return row && row.dims > 0 ? row.dims : null;
}

let checked: { at: number; dims: number | null } | undefined;
const CHECK_TTL_MS = 30_000;

/** Cached for a short while: the column changes only when kb:reindex runs (possibly in another process). */
export async function cachedVectorColumnDimensions(): Promise<number | null> {
  if (!checked || Date.now() - checked.at > CHECK_TTL_MS) checked = { at: Date.now(), dims: await vectorColumnDimensions() };
  return checked.dims;
}

export const forgetVectorColumnDimensions = () => void (checked = undefined);

export function reindexRequired(e: Embedder, columnDims: number | null): AppError {
  return new AppError(
    'kb_reindex_required',
    `The embedding model gives ${e.dimensions}-dimensional vectors but the knowledge base stores ${columnDims}. Run "npm run kb:reindex".`,
    503,
  );
}

export async function assertEmbedderMatchesColumn(e: Embedder): Promise<void> {
  const dims = await cachedVectorColumnDimensions();
  if (dims !== null && dims !== e.dimensions) throw reindexRequired(e, dims);
}

export async function vectorIndexExists(transaction?: Transaction): Promise<boolean> {
  const rows = await db().query(`SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name`, {
    replacements: { name: VECTOR_INDEX },
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows.length > 0;
}

/**
 * Change the column to `dims` dimensions. Existing vectors cannot be cast to another size, so they are
 * cleared (and their model with them, which marks every chunk for re-embedding). The HNSW index is dropped
 * here and rebuilt after the vectors are back: building it once over a full table is far cheaper than
 * updating it row by row.
 */
export async function changeVectorDimensions(dims: number): Promise<void> {
  await db().transaction(async (transaction) => {
    await db().query(`DROP INDEX IF EXISTS ${VECTOR_INDEX}`, { transaction });
    await db().query(`UPDATE kb_chunk SET embedding = NULL, embedding_model = NULL`, { transaction });
    await db().query(`ALTER TABLE kb_chunk ALTER COLUMN embedding TYPE vector(${Math.trunc(dims)})`, { transaction });
    await db().query(`ALTER TABLE kb_chunk ALTER COLUMN embedding SET STORAGE MAIN`, { transaction }); // as migrations/0007_kb.ts
  });
  forgetVectorColumnDimensions();
}

export async function dropVectorIndex(): Promise<void> {
  await db().query(`DROP INDEX IF EXISTS ${VECTOR_INDEX}`);
}

export async function createVectorIndex(): Promise<void> {
  await db().query(`CREATE INDEX IF NOT EXISTS ${VECTOR_INDEX} ON kb_chunk USING hnsw (embedding vector_cosine_ops)`);
}
