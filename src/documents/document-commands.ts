// Reading and changing generated documents: list, get, rename / re-scope, delete, versions, the file
// itself. Reads go through readableDocumentsWhere (./access.ts); changes through getWritableDocument.
import { Op, type WhereOptions } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { changeStorageUsage } from '../billing/quotas.js';
import { db } from '../db/index.js';
import { Document, DocumentVersion } from '../db/models/index.js';
import { AppError, conflict, notFound } from '../errors.js';
import { emit } from '../events.js';
import { log } from '../log.js';
import { storage } from '../storage/index.js';
import { getReadableDocument, getWritableDocument, readableDocumentsWhere, type Caller } from './access.js';
import { readSnapshot, type DocumentVisibility } from './generate-document.js';
import { presentVersion } from './presenters.js';
import { contentTypes, type DocumentFormat } from './formats.js';

export interface ListDocumentsOptions {
  limit: number;
  offset: number;
  status?: 'pending' | 'processing' | 'completed' | 'failed';
  format?: DocumentFormat;
  /** Only the caller's own documents. */
  mine?: boolean;
}

export async function listDocuments(caller: Caller, opts: ListDocumentsOptions): Promise<{ documents: Document[]; total: number }> {
  authorize(policies.read(caller as AuthContext));
  const filters: WhereOptions[] = [readableDocumentsWhere(caller)];
  if (opts.status) filters.push({ status: opts.status });
  if (opts.format) filters.push({ format: opts.format });
  if (opts.mine) filters.push({ createdById: caller.userId });
  const { rows, count } = await Document.findAndCountAll({
    where: { [Op.and]: filters },
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: opts.limit,
    offset: opts.offset,
  });
  return { documents: rows, total: count };
}

export const getDocument = (caller: Caller, id: string) => getReadableDocument(caller, id);

export interface UpdateDocumentInput {
  title?: string;
  description?: string | null;
  visibility?: DocumentVisibility;
}

export async function updateDocument(caller: Caller, id: string, input: UpdateDocumentInput): Promise<Document> {
  const doc = await db().transaction(async (transaction) => {
    const doc = await getWritableDocument(caller, id, transaction);
    const changes: Record<string, unknown> = {};
    if (input.title !== undefined) changes.title = input.title.trim().slice(0, 255);
    if (input.description !== undefined) changes.description = input.description;
    if (input.visibility !== undefined) changes.visibility = input.visibility;
    const before = { title: doc.title, visibility: doc.visibility };
    await doc.update(changes, { transaction });
    await auditAs(caller as AuthContext, 'document.updated', { type: 'document', id: doc.id, details: { before, changes } }, transaction);
    return doc;
  });
  emit('document.updated', { tenantId: doc.tenantId, userId: doc.createdById, documentId: doc.id, status: doc.status ?? 'pending' });
  return doc;
}

/** Deletes the document, its versions and shares; releases the storage of every version's file. */
export async function deleteDocument(caller: Caller, id: string): Promise<void> {
  const keys = await db().transaction(async (transaction) => {
    const doc = await getWritableDocument(caller, id, transaction);
    const versions = await DocumentVersion.findAll({ where: { documentId: doc.id }, transaction });
    const bytes = versions.reduce((sum, v) => sum + (readSnapshot(v.contentSnapshot).fileSizeBytes ?? 0), 0);
    // Versions and shares go with it (ON DELETE CASCADE). A generation still running notices the row is
    // gone in its last transaction and removes its own file.
    await doc.destroy({ transaction });
    if (bytes > 0) await changeStorageUsage(caller.tenantId, -bytes, transaction);
    await auditAs(caller as AuthContext, 'document.deleted', { type: 'document', id: doc.id, details: { title: doc.title, versions: versions.length, bytes } }, transaction);
    return new Set([...versions.map((v) => v.fileUrl), ...(doc.fileUrl ? [doc.fileUrl] : [])]);
  });
  // Files go after the commit: a failed delete leaves rows pointing at files that still exist.
  for (const key of keys) await storage().delete(key).catch((err: unknown) => log.warn({ err, key }, 'could not remove a deleted document’s file'));
  emit('document.updated', { tenantId: caller.tenantId, userId: caller.userId, documentId: id, status: 'deleted' });
}

export async function listVersions(caller: Caller, id: string) {
  const doc = await getReadableDocument(caller, id);
  const versions = await DocumentVersion.findAll({ where: { documentId: doc.id }, order: [['versionNumber', 'DESC']] });
  return versions.map((v) => presentVersion(v, readSnapshot(v.contentSnapshot).fileSizeBytes ?? 0));
}

export interface DocumentFile {
  buffer: Buffer;
  contentType: string;
  fileName: string;
}

/** The current file, or version `versionNumber`'s, of a document the caller may read. */
export async function readDocumentFile(caller: Caller, id: string, versionNumber?: number): Promise<DocumentFile> {
  const doc = await getReadableDocument(caller, id);
  let key: string;
  let format: DocumentFormat = doc.format;
  if (versionNumber !== undefined) {
    const version = await DocumentVersion.findOne({ where: { documentId: doc.id, versionNumber } });
    if (!version) throw notFound(`Version ${versionNumber} of this document`, 'version_not_found');
    key = version.fileUrl;
    format = readSnapshot(version.contentSnapshot).format ?? format;
  } else {
    if (doc.status === 'failed' && !doc.fileUrl)
      throw conflict('document_failed', `The document failed to generate${doc.errorMessage ? ` (${doc.errorMessage})` : ''}.`);
    if (!doc.fileUrl) throw conflict('document_not_ready', 'The document is still being generated. Try again shortly.');
    key = doc.fileUrl;
  }
  let buffer: Buffer;
  try {
    buffer = await storage().get(key);
  } catch (cause) {
    log.error({ err: cause, documentId: doc.id, key }, 'stored document file unreadable');
    throw new AppError('file_unavailable', 'The stored file of this document could not be read.', 500, { cause });
  }
  return { buffer, contentType: contentTypes[format], fileName: `${doc.title}.${format}` };
}
