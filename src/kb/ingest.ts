// Ingestion of one claimed document: read the file, extract, chunk, embed, write, mark indexed — with no
// transaction open while extracting or embedding (slow, and on the embedded engine an open transaction
// blocks every other query). Writes happen in short fenced transactions (./queue.ts): the first deletes
// whatever chunks an interrupted earlier attempt left, each batch of embeddings is written as it is
// made, and the last marks the row indexed. Until then retrieval ignores the document (it searches
// indexed documents only), so a half-written document is never seen and a re-run is idempotent.
//
// Failures: a bad file (the extraction's stable codes) fails the document at once; anything else
// (provider outage, database hiccup) is retried with back-off, and fails the document once `maxAttempts`
// is reached. A worker that dies mid-document simply stops renewing its lease: the row is claimed again
// when the lease expires, and a document that keeps killing its worker fails after `maxAttempts` claims.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import { embedder, toVectorLiteral } from '../agents/embeddings.js';
import { recordAudit } from '../analytics/audit.js';
import { recordUsage } from '../analytics/usage.js';
import { db } from '../db/index.js';
import { AppError, isAppError } from '../errors.js';
import { emit } from '../events.js';
import { log } from '../log.js';
import { storage } from '../storage/index.js';
import { chunkDocumentYielding, type Chunk } from './chunk.js';
import { formatKbError } from './documents.js';
import { extractText } from './extract/index.js';
import { fenced, LeaseLostError, releaseKbDocument, renewLease, type ClaimedKbDocument } from './queue.js';

export interface IngestOptions {
  leaseSeconds: number;
  maxAttempts: number;
  /** Texts per embedding call (and chunks per write transaction). */
  embedBatchSize: number;
  /** Back-off before retry n (1-based) after a transient failure. */
  retryDelaySeconds: (attempt: number) => number;
  /** Aborted when the worker stops: the document is released for another worker, not failed. */
  signal?: AbortSignal;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  leaseSeconds: 300,
  maxAttempts: 3,
  embedBatchSize: 64,
  retryDelaySeconds: (attempt) => Math.min(15 * 2 ** (attempt - 1), 900),
};

/** extracted_text keeps the text for previews and the MCP resource; past this it is cut. */
export const MAX_EXTRACTED_TEXT_CHARS = 500_000;

export type IngestOutcome =
  | { status: 'indexed'; chunks: number; pages: number | null; seconds: number }
  | { status: 'failed'; code: string }
  | { status: 'retrying'; code: string; retryInSeconds: number }
  | { status: 'released' }
  | { status: 'lost' };

/**
 * What gets embedded for a chunk: its heading trail, then its text. The headings say what a passage is
 * about when the passage itself does not ("Leave" over "Employees get 25 days…").
 */
export function embeddingInput(content: string, headings?: string[] | null): string {
  return headings?.length ? `${headings.join(' > ')}\n\n${content}` : content;
}

export async function ingestKbDocument(doc: ClaimedKbDocument, opts: IngestOptions = DEFAULT_INGEST_OPTIONS): Promise<IngestOutcome> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;

  if (doc.attempts > opts.maxAttempts) {
    // Claimed more often than allowed without ever finishing: earlier workers died on it.
    const code = 'processing_interrupted';
    const message = `Processing was interrupted ${doc.attempts - 1} times (the worker stopped or crashed on this file).`;
    return (await markFailed(doc, opts, code, message, seconds())) ? { status: 'failed', code } : { status: 'lost' };
  }
  emitStatus(doc, 'processing');

  // Heartbeat: keep the lease while extraction or embedding take long; stop work if it is lost.
  const lost = new AbortController();
  const heartbeat = setInterval(
    () => void renewLease(doc, opts.leaseSeconds).catch((err) => err instanceof LeaseLostError && lost.abort(err)),
    Math.max(1000, (opts.leaseSeconds * 1000) / 3),
  );
  heartbeat.unref();
  const signal = opts.signal ? AbortSignal.any([opts.signal, lost.signal]) : lost.signal;

  try {
    const buffer = await readFile(doc.fileUrl, doc.fileName);
    const extracted = await extractText({ buffer, fileName: doc.fileName, mimeType: stringOr(doc.metadata.mimeType) });
    signal.throwIfAborted();
    const chunks = await chunkDocumentYielding(extracted.pages);
    const e = embedder();

    await fenced(doc, opts.leaseSeconds, (t) => deleteChunks(doc.id, t));
    let tokens = 0;
    for (let i = 0; i < chunks.length; i += opts.embedBatchSize) {
      const batch = chunks.slice(i, i + opts.embedBatchSize);
      const vectors = await e.embed(batch.map((c) => embeddingInput(c.content, c.metadata.headings)), signal);
      signal.throwIfAborted();
      await fenced(doc, opts.leaseSeconds, (t) => insertChunks(doc, batch, vectors, e.modelId, t));
      tokens += batch.reduce((n, c) => n + c.tokenCount, 0);
    }

    const text = extracted.pages.map((p) => p.text).join('\n\n');
    const title = doc.metadata.titleFromUser === false && extracted.title?.trim() ? extracted.title.trim().slice(0, 255) : null;
    const elapsed = seconds();
    await fenced(doc, opts.leaseSeconds, async (transaction) => {
      await db().query(
        `UPDATE kb_document
            SET status = 'indexed', total_chunks = :chunks, total_pages = :pages, processing_time_seconds = :elapsed,
                embedding_model = :model, extracted_text = :text, file_type = :fileType, title = COALESCE(:title, title),
                error_message = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = NOW(),
                metadata = metadata - 'lastError'
          WHERE id = :id`,
        {
          replacements: {
            id: doc.id,
            chunks: chunks.length,
            pages: extracted.totalPages,
            elapsed,
            model: e.modelId,
            text: stripNul(text.slice(0, MAX_EXTRACTED_TEXT_CHARS)),
            fileType: extracted.fileType,
            title,
          },
          transaction,
        },
      );
      await recordUsage(
        { tenantId: doc.tenantId, userId: doc.uploadedById, activityType: 'kb_ingestion', tokensUsed: tokens, executionTimeSeconds: elapsed, metadata: { documentId: doc.id, chunks: chunks.length, embeddingModel: e.modelId } },
        transaction,
      );
      await recordAudit(
        { tenantId: doc.tenantId, action: 'kb.document.indexed', resourceType: 'kb_document', resourceId: doc.id, details: { chunks: chunks.length, pages: extracted.totalPages, attempt: doc.attempts } },
        transaction,
      );
    });
    emitStatus(doc, 'indexed');
    return { status: 'indexed', chunks: chunks.length, pages: extracted.totalPages, seconds: elapsed };
  } catch (err) {
    if (err instanceof LeaseLostError || lost.signal.aborted) {
      log.info({ documentId: doc.id }, 'kb ingestion stopped: the document was deleted or another worker took it');
      return { status: 'lost' };
    }
    if (opts.signal?.aborted) {
      await releaseKbDocument(doc).catch((e) => log.warn({ err: e, documentId: doc.id }, 'could not release a KB document'));
      return { status: 'released' };
    }
    const { code, message, permanent } = classify(err);
    if (permanent || doc.attempts >= opts.maxAttempts) {
      if (!permanent) log.warn({ err, documentId: doc.id, attempts: doc.attempts }, 'kb ingestion failed for good');
      return (await markFailed(doc, opts, code, message, seconds())) ? { status: 'failed', code } : { status: 'lost' };
    }
    const retryInSeconds = opts.retryDelaySeconds(doc.attempts);
    log.warn({ err, documentId: doc.id, attempts: doc.attempts, retryInSeconds }, 'kb ingestion failed; will retry');
    return (await retryLater(doc, opts, code, message, retryInSeconds)) ? { status: 'retrying', code, retryInSeconds } : { status: 'lost' };
  } finally {
    clearInterval(heartbeat);
  }
}

async function readFile(key: string, fileName: string): Promise<Buffer> {
  try {
    return await storage().get(key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppError('file_missing', `The stored file of "${fileName}" is missing. Upload it again.`, 422, { cause: err });
    throw err; // an unreadable storage is transient
  }
}

function deleteChunks(documentId: string, transaction: Transaction) {
  return db().query(`DELETE FROM kb_chunk WHERE document_id = :documentId`, { replacements: { documentId }, transaction });
}

async function insertChunks(doc: ClaimedKbDocument, chunks: Chunk[], vectors: number[][], model: string, transaction: Transaction) {
  if (vectors.length !== chunks.length) throw new Error(`embedder returned ${vectors.length} vectors for ${chunks.length} texts`);
  const rows = chunks.map((c, i) => ({
    id: randomUUID(),
    content: stripNul(c.content),
    chunkIndex: c.chunkIndex,
    pageNumber: c.pageNumber,
    metadata: { ...c.metadata, tokenCount: c.tokenCount },
    embedding: toVectorLiteral(vectors[i]!),
  }));
  // One statement per batch: the rows travel as one JSON parameter.
  await db().query(
    `INSERT INTO kb_chunk (id, document_id, tenant_id, content, chunk_index, vector_db_id, metadata, page_number, embedding, embedding_model)
     SELECT (r->>'id')::uuid, :documentId, :tenantId, r->>'content', (r->>'chunkIndex')::int, r->>'id', r->'metadata',
            (r->>'pageNumber')::int, (r->>'embedding')::vector, :model
       FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r`,
    { replacements: { documentId: doc.id, tenantId: doc.tenantId, model, rows: JSON.stringify(rows) }, transaction },
  );
}

/** Returns false when the claim was lost meanwhile (then someone else owns the row's state). */
async function markFailed(doc: ClaimedKbDocument, opts: IngestOptions, code: string, message: string, seconds: number): Promise<boolean> {
  try {
    await fenced(doc, opts.leaseSeconds, async (transaction) => {
      await deleteChunks(doc.id, transaction);
      await db().query(
        `UPDATE kb_document
            SET status = 'failed', error_message = :error, total_chunks = 0, processing_time_seconds = :seconds,
                lease_token = NULL, lease_expires_at = NULL, updated_at = NOW()
          WHERE id = :id`,
        { replacements: { id: doc.id, error: formatKbError(code, message), seconds }, transaction },
      );
      await recordAudit(
        { tenantId: doc.tenantId, action: 'kb.document.failed', resourceType: 'kb_document', resourceId: doc.id, details: { code, attempt: doc.attempts } },
        transaction,
      );
    });
  } catch (err) {
    if (err instanceof LeaseLostError) return false;
    throw err;
  }
  emitStatus(doc, 'failed');
  return true;
}

async function retryLater(doc: ClaimedKbDocument, opts: IngestOptions, code: string, message: string, delaySeconds: number): Promise<boolean> {
  try {
    await fenced(doc, opts.leaseSeconds, async (transaction) => {
      await deleteChunks(doc.id, transaction);
      await db().query(
        `UPDATE kb_document
            SET lease_token = NULL, lease_expires_at = NOW() + make_interval(secs => :delaySeconds), updated_at = NOW(),
                metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('lastError', CAST(:error AS text))
          WHERE id = :id`,
        { replacements: { id: doc.id, delaySeconds, error: formatKbError(code, message) }, transaction },
      );
    });
    return true;
  } catch (err) {
    if (err instanceof LeaseLostError) return false;
    throw err;
  }
}

/** A stable code and a sentence for the user; `permanent` when retrying cannot help (the file is the problem). */
function classify(err: unknown): { code: string; message: string; permanent: boolean } {
  if (isAppError(err)) {
    const permanent = (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) || err.code === 'embedding_dimension_mismatch';
    return { code: err.code, message: err.message, permanent };
  }
  const name = (err as Error)?.name ?? '';
  if (/^AI_/.test(name) || /embed/i.test(String((err as Error)?.message)))
    return { code: 'embedding_failed', message: 'The embedding provider did not answer. Try again later.', permanent: false };
  return { code: 'processing_error', message: 'The document could not be processed because of an internal error. Try again later.', permanent: false };
}

function emitStatus(doc: ClaimedKbDocument, status: string) {
  emit('kb.document.updated', { tenantId: doc.tenantId, userId: doc.uploadedById, documentId: doc.id, status });
}

const stringOr = (v: unknown) => (typeof v === 'string' ? v : undefined);
const stripNul = (s: string) => s.replace(/\u0000/g, '');
