// The ingestion queue is the kb_document table (columns from migrations/0007_kb.ts). A row is work when it
// is 'uploading' (new or re-queued), or 'processing' with an expired lease (its worker died, or a transient
// failure's back-off is over). Claims are one short UPDATE … FOR UPDATE SKIP LOCKED, so any number of
// workers, in any number of processes, share the queue without handing a document to two of them.
// Each claim takes a fresh lease token; every later write of that worker is fenced on it (`fenced`).
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import { db } from '../db/index.js';

export interface ClaimedKbDocument {
  id: string;
  tenantId: string;
  uploadedById: string;
  title: string;
  fileName: string;
  fileUrl: string;
  fileType: string | null;
  metadata: Record<string, unknown>;
  /** This claim's attempt number, from 1. */
  attempts: number;
  leaseToken: string;
}

export interface ClaimOptions {
  leaseSeconds: number;
  /** Claim only this tenant's documents (tests, benchmarks, tools that drain one tenant's queue). */
  tenantId?: string;
}

export async function claimNextKbDocument(opts: ClaimOptions): Promise<ClaimedKbDocument | null> {
  const leaseToken = randomUUID();
  const [row] = await db().query<Record<string, any>>(
    `UPDATE kb_document d
        SET status = 'processing', attempts = d.attempts + 1, lease_token = :leaseToken,
            lease_expires_at = NOW() + make_interval(secs => :leaseSeconds), updated_at = NOW()
      WHERE d.id = (
        SELECT q.id FROM kb_document q
         WHERE (q.status = 'uploading' OR (q.status = 'processing' AND (q.lease_expires_at IS NULL OR q.lease_expires_at < NOW())))
           ${opts.tenantId ? 'AND q.tenant_id = :tenantId' : ''}
         ORDER BY q.created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
      RETURNING d.id, d.tenant_id, d.uploaded_by_id, d.title, d.file_name, d.file_url, d.file_type, d.metadata, d.attempts`,
    { replacements: { leaseToken, leaseSeconds: opts.leaseSeconds, tenantId: opts.tenantId ?? null }, type: QueryTypes.SELECT },
  );
  if (!row) return null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    uploadedById: row.uploaded_by_id,
    title: row.title,
    fileName: row.file_name,
    fileUrl: row.file_url,
    fileType: row.file_type,
    metadata: row.metadata ?? {},
    attempts: row.attempts,
    leaseToken,
  };
}

/** Thrown when the claim is gone: the document was deleted, or the lease expired and another worker took it. */
export class LeaseLostError extends Error {
  constructor(documentId: string) {
    super(`lost the lease on kb_document ${documentId}`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Run `work` in a short transaction that first re-checks (and locks, and extends) our claim. Nothing is
 * written unless we still hold the lease.
 */
export async function fenced<T>(
  doc: Pick<ClaimedKbDocument, 'id' | 'leaseToken'>,
  leaseSeconds: number,
  work: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  return db().transaction(async (transaction) => {
    await renewLease(doc, leaseSeconds, transaction);
    return work(transaction);
  });
}

/** Extend the lease (the heartbeat of a long document); throws LeaseLostError when it is no longer ours. */
export async function renewLease(doc: Pick<ClaimedKbDocument, 'id' | 'leaseToken'>, leaseSeconds: number, transaction?: Transaction) {
  const rows = await db().query(
    `UPDATE kb_document SET lease_expires_at = NOW() + make_interval(secs => :leaseSeconds)
      WHERE id = :id AND lease_token = :leaseToken AND status = 'processing' RETURNING id`,
    { replacements: { id: doc.id, leaseToken: doc.leaseToken, leaseSeconds }, transaction, type: QueryTypes.SELECT },
  );
  if (!rows.length) throw new LeaseLostError(doc.id);
}

/** Give the document back untouched (the worker is stopping): claimable again at once, attempt not counted. */
export async function releaseKbDocument(doc: Pick<ClaimedKbDocument, 'id' | 'leaseToken'>): Promise<void> {
  await db().query(
    `UPDATE kb_document SET lease_token = NULL, lease_expires_at = NULL, attempts = GREATEST(attempts - 1, 0), updated_at = NOW()
      WHERE id = :id AND lease_token = :leaseToken AND status = 'processing'`,
    { replacements: { id: doc.id, leaseToken: doc.leaseToken } },
  );
}
