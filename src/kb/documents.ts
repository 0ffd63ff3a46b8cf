// Knowledge-base documents: upload, list, get, delete, reprocess. The upload refuses what it can refuse up
// front (size, type, zip bombs, quota) before anything is stored, then stores the file and creates the row
// in status 'uploading' — which is what queues it: the ingestion worker (./ingest.ts) claims such rows.
// Members and above upload; members delete what they uploaded, managers and above anything; viewers read.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Op, type Transaction, type WhereOptions } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { atLeast } from '../auth/roles.js';
import { changeStorageUsage } from '../billing/quotas.js';
import { config } from '../config.js';
import { db } from '../db/index.js';
import { KbDocument } from '../db/models/index.js';
import { AppError, notFound } from '../errors.js';
import { emit } from '../events.js';
import { log } from '../log.js';
import { storage } from '../storage/index.js';
import { detectFileType, type KbFileType } from './extract/index.js';
import { emptyFile } from './extract/extract-errors.js';
import type { KbStatus } from './schemas.js';

export interface UploadKbDocumentInput {
  buffer: Buffer;
  fileName: string;
  mimeType?: string;
  title?: string;
  tags?: string[];
  category?: string;
}

export interface KbDocumentView {
  id: string;
  title: string;
  fileName: string;
  fileType: string | null;
  fileSizeBytes: number | null;
  status: KbStatus;
  totalPages: number | null;
  totalChunks: number;
  processingTimeSeconds: number | null;
  embeddingModel: string | null;
  tags: string[];
  category: string | null;
  /** Why processing failed: a stable code and a sentence for the user. */
  error: { code: string; message: string } | null;
  uploadedById: string;
  createdAt: Date;
  updatedAt: Date;
}

/** error_message holds "code: sentence"; the code is what clients switch on. */
export const formatKbError = (code: string, message: string) => `${code}: ${message}`;

export function parseKbError(errorMessage: string | null | undefined): { code: string; message: string } | null {
  if (!errorMessage) return null;
  const m = /^([a-z][a-z0-9_]*): ([\s\S]*)$/.exec(errorMessage);
  return m ? { code: m[1]!, message: m[2]! } : { code: 'processing_failed', message: errorMessage };
}

export function presentKbDocument(d: KbDocument): KbDocumentView {
  return {
    id: d.id,
    title: d.title,
    fileName: d.fileName,
    fileType: d.fileType,
    fileSizeBytes: d.fileSizeBytes === null ? null : Number(d.fileSizeBytes),
    status: (d.status ?? 'uploading') as KbStatus,
    totalPages: d.totalPages,
    totalChunks: d.totalChunks ?? 0,
    processingTimeSeconds: d.processingTimeSeconds,
    embeddingModel: d.embeddingModel,
    tags: Array.isArray(d.tags) ? d.tags : [],
    category: d.category,
    error: parseKbError(d.errorMessage),
    uploadedById: d.uploadedById,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

// The columns a view needs; extracted_text (up to megabytes) is read only by whoever needs it.
const VIEW_ATTRIBUTES = [
  'id', 'tenantId', 'uploadedById', 'title', 'fileName', 'fileUrl', 'fileType', 'fileSizeBytes', 'status', 'totalPages',
  'totalChunks', 'processingTimeSeconds', 'embeddingModel', 'tags', 'category', 'errorMessage', 'metadata', 'createdAt', 'updatedAt',
];

export const fileTooLarge = (fileName: string, max: number) =>
  new AppError('file_too_large', `"${fileName}" is larger than the ${formatBytes(max)} upload limit.`, 413);

/** The name as the user knows it: no directories (browsers may send C:\fakepath\…), at most 255 characters. */
function displayName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop()!.trim().replace(/[\u0000-\u001f]/g, '');
  return (base || 'file').slice(0, 255);
}

/** A storage-safe version of the name (the storage accepts [A-Za-z0-9_.-/] only). */
export function storageFileName(fileName: string): string {
  const ext = path.extname(fileName).toLowerCase().replace(/[^a-z0-9.]/g, '').slice(0, 12);
  const stem = path
    .basename(fileName, path.extname(fileName))
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '_')
    .replace(/^[._]+|[._]+$/g, '')
    .slice(0, 100);
  return `${stem || 'file'}${ext}`;
}

export const kbStorageKey = (tenantId: string, documentId: string, fileName: string) =>
  `${tenantId}/kb/${documentId}/${storageFileName(fileName)}`;

export async function uploadKbDocument(auth: AuthContext, input: UploadKbDocumentInput): Promise<KbDocumentView> {
  authorize(policies.write(auth), 'Only members and above can add documents to the knowledge base.');
  const fileName = displayName(input.fileName);
  const max = config().MAX_UPLOAD_BYTES;
  if (input.buffer.length === 0) throw emptyFile(fileName);
  if (input.buffer.length > max) throw fileTooLarge(fileName, max);
  // Refuses unsupported types (415), zip bombs (413), damaged Office files and encrypted Office files
  // before anything is stored. Damage or encryption inside a PDF shows up only at extraction: the row fails.
  const fileType: KbFileType = await detectFileType(input.buffer, fileName, input.mimeType);

  const id = randomUUID();
  const key = kbStorageKey(auth.tenantId, id, fileName);
  // The file is written before the row exists, so a worker never claims a row without its file; if the
  // transaction fails (quota, database) the file is removed again and nothing remains.
  await storage().put(key, input.buffer);
  let doc: KbDocument;
  try {
    doc = await db().transaction(async (transaction) => {
      await changeStorageUsage(auth.tenantId, input.buffer.length, transaction);
      const created = await KbDocument.create(
        {
          id,
          tenantId: auth.tenantId,
          uploadedById: auth.userId,
          title: input.title ?? defaultTitle(fileName),
          fileName,
          fileUrl: key,
          fileType,
          fileSizeBytes: input.buffer.length,
          status: 'uploading',
          totalChunks: 0,
          tags: input.tags ?? [],
          category: input.category ?? null,
          metadata: { titleFromUser: input.title !== undefined, mimeType: input.mimeType ?? null },
        },
        { transaction },
      );
      await auditAs(
        auth,
        'kb.document.uploaded',
        { type: 'kb_document', id, details: { fileName, fileType, fileSizeBytes: input.buffer.length } },
        transaction,
      );
      return created;
    });
  } catch (err) {
    await storage().delete(key).catch((e) => log.warn({ err: e, key }, 'could not remove the file of a refused upload'));
    throw err;
  }
  emit('kb.document.updated', { tenantId: auth.tenantId, userId: auth.userId, documentId: id, status: 'uploading' });
  return presentKbDocument(doc);
}

export interface ListKbDocumentsInput {
  status?: KbStatus;
  /** Documents carrying every one of these tags. */
  tags?: string[];
  category?: string;
  limit?: number;
  offset?: number;
}

export async function listKbDocuments(
  auth: AuthContext,
  input: ListKbDocumentsInput = {},
): Promise<{ documents: KbDocumentView[]; total: number }> {
  authorize(policies.read(auth));
  const where: WhereOptions = { tenantId: auth.tenantId };
  if (input.status) Object.assign(where, { status: input.status });
  if (input.category) Object.assign(where, { category: input.category });
  if (input.tags?.length) Object.assign(where, { tags: { [Op.contains]: input.tags } });
  const { rows, count } = await KbDocument.findAndCountAll({
    where,
    attributes: VIEW_ATTRIBUTES,
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: input.limit ?? 20,
    offset: input.offset ?? 0,
  });
  return { documents: rows.map(presentKbDocument), total: count };
}

async function findOwn(auth: AuthContext, id: string, transaction?: Transaction, lock = false): Promise<KbDocument> {
  const doc = await KbDocument.findOne({
    where: { id, tenantId: auth.tenantId },
    attributes: VIEW_ATTRIBUTES,
    transaction,
    lock: lock ? transaction?.LOCK.UPDATE : undefined,
  });
  if (!doc) throw notFound('Knowledge-base document', 'kb_document_not_found');
  return doc;
}

export async function getKbDocument(auth: AuthContext, id: string): Promise<KbDocumentView> {
  authorize(policies.read(auth));
  return presentKbDocument(await findOwn(auth, id));
}

const mayChange = (auth: AuthContext, doc: KbDocument) =>
  policies.write(auth) && (doc.uploadedById === auth.userId || atLeast(auth.role, 'manager'));

/** Deletes the row (its chunks go with it, by foreign key), releases its storage, then removes the file. */
export async function deleteKbDocument(auth: AuthContext, id: string): Promise<{ id: string; deleted: true }> {
  authorize(policies.write(auth), 'Only members and above can delete knowledge-base documents.');
  const doc = await db().transaction(async (transaction) => {
    const found = await findOwn(auth, id, transaction, true);
    authorize(mayChange(auth, found), 'Members can delete only the documents they uploaded.');
    await found.destroy({ transaction });
    await changeStorageUsage(auth.tenantId, -Number(found.fileSizeBytes ?? 0), transaction);
    await auditAs(auth, 'kb.document.deleted', { type: 'kb_document', id, details: { fileName: found.fileName } }, transaction);
    return found;
  });
  // After the commit: a failed removal leaves an orphan file (logged), never a row without its file.
  await storage().delete(doc.fileUrl).catch((err) => log.warn({ err, key: doc.fileUrl }, 'could not remove a deleted KB file'));
  emit('kb.document.updated', { tenantId: auth.tenantId, userId: auth.userId, documentId: id, status: 'deleted' });
  return { id, deleted: true };
}

/** Queue an indexed or failed document again (e.g. after a provider outage exhausted its attempts). */
export async function reprocessKbDocument(auth: AuthContext, id: string): Promise<KbDocumentView> {
  authorize(policies.write(auth), 'Only members and above can reprocess knowledge-base documents.');
  const doc = await db().transaction(async (transaction) => {
    const found = await findOwn(auth, id, transaction, true);
    authorize(mayChange(auth, found), 'Members can reprocess only the documents they uploaded.');
    if (found.status === 'uploading' || found.status === 'processing')
      throw new AppError('kb_document_busy', 'This document is already queued or being processed.', 409);
    await db().query(
      `UPDATE kb_document SET status = 'uploading', attempts = 0, lease_token = NULL, lease_expires_at = NULL,
              error_message = NULL, updated_at = NOW()
        WHERE id = :id AND tenant_id = :tenantId`,
      { replacements: { id, tenantId: auth.tenantId }, transaction },
    );
    await auditAs(auth, 'kb.document.reprocessed', { type: 'kb_document', id }, transaction);
    return findOwn(auth, id, transaction);
  });
  emit('kb.document.updated', { tenantId: auth.tenantId, userId: auth.userId, documentId: id, status: 'uploading' });
  return presentKbDocument(doc);
}

function defaultTitle(fileName: string): string {
  const stem = path.basename(fileName, path.extname(fileName)).replace(/[_-]+/g, ' ').trim();
  return (stem || fileName).slice(0, 255);
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
