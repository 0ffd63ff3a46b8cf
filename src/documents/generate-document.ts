// Generating a document: from structured content (renderDocument) or from a template and its data
// (fillTemplate). The documents_document row moves pending → processing → completed/failed:
//
//   1. one short transaction: take one unit of the month's document allowance and create the row (pending);
//   2. processing: render on a render thread (no transaction open), store the file under
//      <tenant>/documents/<id>/v<N>.<ext>;
//   3. one short transaction: reserve the storage, write documents_version N, complete the row, bump the
//      template's usage_count, one analytics_usage row ('document_generated'), one audit row.
//
// When anything fails after step 1 the stored file is removed, the row says `failed` with "<code>: <message>",
// and the allowance unit is given back in the same transaction: a failed generation does not count
// against the month (a period roll-over between the two is not checked; at worst one unit of the new
// period is returned). Nothing else is touched (no storage usage, no usage row, no usage_count); an audit row
// records the failure.
//
// For speed (a small document renders in a few milliseconds, less than a disk flush or a dozen round
// trips): each step is one SQL statement on the usual path (./generation-rows.ts); step 1 and the
// "processing" update commit without waiting for the WAL flush (synchronous_commit off for those
// transactions only; the WAL is written in order, so step 3's or the failure's ordinary commit makes them
// durable too, and a crash before that can only lose a pending row together with its allowance unit); the
// "processing" update runs while the document renders; and rendering runs on a render thread
// (./render-pool.ts), so it neither blocks the event loop nor waits for other documents' database work.
//
// New versions (regenerate with the same input, or edit with new content/data) run steps 2–3 after a short
// transaction that locks the row and marks it processing, which also keeps two versions of one document
// from being made at once. A new version does not take a document unit (the allowance counts documents,
// not revisions) unless the document has no file yet; a failed new version leaves the previous one current.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { consumeDocumentQuota } from '../billing/quotas.js';
import { db } from '../db/index.js';
import { Document, DocumentTemplate, DocumentVersion } from '../db/models/index.js';
import { AppError, badRequest, conflict } from '../errors.js';
import { emit } from '../events.js';
import { log } from '../log.js';
import { storage } from '../storage/index.js';
import type { ToolProgress } from '../tools/registry.js';
import { getVisibleTemplate, getWritableDocument, type Caller } from './access.js';
import { contentText } from './content-text.js';
import { formatOfTemplate, type DocumentFormat } from './formats.js';
import { completeVersion, insertPendingDocument, markDocumentProcessing, type DocumentRef } from './generation-rows.js';
import { parseDocumentContent, type DocumentContent } from './render/content.js';
import { render as renderOnThread } from './render-pool.js';
import type { TemplateData } from './templates/index.js';

export const documentVisibilities = ['private', 'team', 'organization'] as const;
export type DocumentVisibility = (typeof documentVisibilities)[number];

export interface GenerateDocumentInput {
  /** Defaults to the content's title, or the template's name. */
  title?: string;
  description?: string;
  /** From content: docx (default), pdf or xlsx. From a template: must match the template's type if given. */
  format?: DocumentFormat;
  content?: DocumentContent;
  templateId?: string;
  data?: TemplateData;
  /** PDF templates: bake the values into the page (the form is no longer editable). Default false. */
  flatten?: boolean;
  visibility?: DocumentVisibility;
}

export interface NewVersionInput {
  title?: string;
  /** New content (documents written from content); omitted → the current content again. */
  content?: DocumentContent;
  /** New data (documents filled from a template); omitted → the current data again. */
  data?: TemplateData;
  flatten?: boolean;
}

export interface GenerationOptions {
  /** Where the request came from (web, api, mcp, slack…), kept in the usage row. */
  channel?: string;
  /** The model that wrote the content, when known; 'none' otherwise. */
  modelUsed?: string;
  signal?: AbortSignal;
  onProgress?: (p: ToolProgress) => void;
}

/** What a document is made from; stored in input_data, and per version in content_snapshot. */
type StoredInput =
  | { source: 'content'; content: DocumentContent }
  | { source: 'template'; templateId: string; data: TemplateData; flatten?: boolean };

type Source =
  | { kind: 'content'; format: DocumentFormat; content: DocumentContent }
  | { kind: 'template'; format: DocumentFormat; template: DocumentTemplate; data: TemplateData; flatten: boolean };

export interface VersionSnapshot {
  format: DocumentFormat;
  fileSizeBytes: number;
  input: StoredInput;
}

/** A version's snapshot as stored (tolerant: rows written by other code may hold anything). */
export function readSnapshot(text: string | null): Partial<VersionSnapshot> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Partial<VersionSnapshot>) : {};
  } catch {
    return {};
  }
}

const STALE_PROCESSING_MS = 10 * 60_000;
const PROGRESS_STEPS = 3;

export async function generateDocument(caller: Caller, input: GenerateDocumentInput, opts: GenerationOptions = {}): Promise<Document> {
  authorize(policies.write(caller as AuthContext));
  throwIfCancelled(opts.signal);
  const source = await resolveNewSource(caller, input);
  const title = (input.title ?? (source.kind === 'content' ? source.content.title : source.template.name)).trim().slice(0, 255) || 'Untitled';
  const row = rowInput(source);
  const doc: DocumentRef = { id: randomUUID(), tenantId: caller.tenantId, createdById: caller.userId, modelUsed: opts.modelUsed ?? 'none' };
  await insertPendingDocument({
    ...doc,
    templateId: source.kind === 'template' ? source.template.id : null,
    title,
    description: input.description ?? null,
    format: source.format,
    ...row,
    visibility: input.visibility ?? 'private',
  });
  notify(doc, 'pending');
  return produceVersion(caller, doc, source, row, { ...opts, versionNumber: 1, firstFile: true, quotaTaken: true, markProcessing: true });
}

/** Regenerate (same input) or edit (new content or data): a new documents_version that becomes current. */
export async function createDocumentVersion(caller: Caller, documentId: string, input: NewVersionInput, opts: GenerationOptions = {}): Promise<Document> {
  throwIfCancelled(opts.signal);
  const reserved = await db().transaction(async (transaction) => {
    const doc = await getWritableDocument(caller, documentId, transaction);
    const busy = doc.status === 'pending' || doc.status === 'processing';
    if (busy && Date.now() - new Date(doc.updatedAt).getTime() < STALE_PROCESSING_MS)
      throw conflict('document_busy', 'This document is being generated right now. Try again when it is done.');
    const source = await resolveVersionSource(caller, doc, input, transaction);
    const latest = (await DocumentVersion.max<number, DocumentVersion>('versionNumber', { where: { documentId: doc.id }, transaction })) ?? 0;
    const versionNumber = Number(latest) + 1;
    // A document that never got a file (its first generation failed) counts when it first gets one. One
    // whose first generation was interrupted (still pending/processing, now stale) still holds its unit.
    const firstFile = versionNumber === 1;
    if (firstFile && !busy) await consumeDocumentQuota(caller.tenantId, transaction);
    await doc.update({ status: 'processing', ...(input.title ? { title: input.title.trim().slice(0, 255) } : {}) }, { transaction });
    return { doc, source, versionNumber, firstFile };
  });
  notify(reserved.doc, 'processing');
  return produceVersion(caller, reserved.doc, reserved.source, rowInput(reserved.source), {
    ...opts,
    versionNumber: reserved.versionNumber,
    firstFile: reserved.firstFile,
    quotaTaken: reserved.firstFile,
    markProcessing: false,
  });
}

// ---- sources ----------------------------------------------------------------------------------------

async function resolveNewSource(caller: Caller, input: GenerateDocumentInput): Promise<Source> {
  if (input.content && input.templateId)
    throw badRequest('invalid_generation_input', 'Give either content to write or a templateId with its data, not both.');
  if (input.content) {
    if (input.data !== undefined) throw badRequest('invalid_generation_input', '`data` fills a template; give a templateId with it, or leave it out.');
    return { kind: 'content', format: input.format ?? 'docx', content: input.content };
  }
  if (!input.templateId) throw badRequest('invalid_generation_input', 'Give the content to write, or a templateId and the data to fill it with.');
  const template = await getVisibleTemplate(caller, input.templateId);
  const format = formatOfTemplate[template.type];
  if (input.format && input.format !== format)
    throw badRequest('format_mismatch', `A ${template.type} template produces a .${format} file, not .${input.format}.`);
  return { kind: 'template', format, template, data: input.data ?? {}, flatten: input.flatten ?? false };
}

async function resolveVersionSource(caller: Caller, doc: Document, input: NewVersionInput, transaction: Transaction): Promise<Source> {
  const stored = doc.inputData as Partial<StoredInput> | null;
  if (stored?.source === 'template') {
    if (input.content) throw badRequest('invalid_generation_input', 'This document is filled from a template: send new `data`, not content.');
    const templateId = doc.templateId ?? stored.templateId;
    const template = templateId
      ? await getVisibleTemplate(caller, templateId, transaction).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'template_not_found') return null;
          throw err;
        })
      : null;
    if (!template || !doc.templateId)
      throw conflict('template_unavailable', 'The template this document was filled from has been deleted or is no longer visible to you.');
    return {
      kind: 'template',
      format: doc.format,
      template,
      data: input.data ?? (stored.data as TemplateData) ?? {},
      flatten: input.flatten ?? stored.flatten ?? false,
    };
  }
  if (input.data !== undefined) throw badRequest('invalid_generation_input', 'This document is written from content: send new `content`, not data.');
  const content = input.content ?? parseDocumentContent((stored as { content?: unknown } | null)?.content);
  return { kind: 'content', format: doc.format, content };
}

/** What a document's input_data and generated_content hold for this source (computed once per generation). */
interface RowInput {
  inputData: StoredInput;
  generatedContent: string | null;
}

const rowInput = (source: Source): RowInput => ({
  inputData: storedInput(source),
  generatedContent: source.kind === 'content' ? contentText(source.content) : null,
});

function storedInput(source: Source): StoredInput {
  return source.kind === 'content'
    ? { source: 'content', content: source.content }
    : { source: 'template', templateId: source.template.id, data: source.data, ...(source.flatten ? { flatten: true } : {}) };
}

async function render(source: Source, tenantId: string, signal?: AbortSignal): Promise<Buffer> {
  if (source.kind === 'content') return renderOnThread({ kind: 'content', format: source.format, content: source.content }, signal);
  let file: Buffer;
  try {
    file = await storage().get(source.template.fileUrl);
  } catch (cause) {
    log.error({ err: cause, tenantId, templateId: source.template.id }, 'template file unreadable');
    throw new AppError('template_unavailable', 'The template file could not be read. Upload the template again.', 409, { cause });
  }
  return renderOnThread({ kind: 'fill', type: source.template.type, file, data: source.data, flatten: source.flatten }, signal);
}

// ---- the version itself -----------------------------------------------------------------------------

interface ProduceOptions extends GenerationOptions {
  versionNumber: number;
  /** The document has no file yet: a failure marks it failed (otherwise the previous version stays current). */
  firstFile: boolean;
  /** A document unit was taken for this run: a failure gives it back. */
  quotaTaken: boolean;
  markProcessing: boolean;
}

async function produceVersion(caller: Caller, doc: DocumentRef, source: Source, input: RowInput, opts: ProduceOptions): Promise<Document> {
  const started = performance.now();
  const progress = (step: number, message: string) => opts.onProgress?.({ progress: step, total: PROGRESS_STEPS, message });
  const key = `${caller.tenantId}/documents/${doc.id}/v${opts.versionNumber}.${source.format}`;
  let stored = false;
  try {
    progress(0, 'Generating the document');
    const rendering = render(source, caller.tenantId, opts.signal); // on its thread first, then the update
    const processing = opts.markProcessing ? markDocumentProcessing(doc).then(() => notify(doc, 'processing')) : Promise.resolve();
    // Both settle before going on, so a failure is never overwritten by a late "processing".
    const [rendered, marked] = await Promise.allSettled([rendering, processing]);
    if (marked.status === 'rejected') throw marked.reason;
    if (rendered.status === 'rejected') throw rendered.reason;
    const buffer = rendered.value;
    throwIfCancelled(opts.signal);
    progress(1, 'Saving the file');
    await storage().put(key, buffer);
    stored = true;
    throwIfCancelled(opts.signal);
    progress(2, 'Recording the new version');
    const seconds = (performance.now() - started) / 1000;
    const snapshot: VersionSnapshot = { format: source.format, fileSizeBytes: buffer.length, input: input.inputData };
    const done = await completeVersion({
      caller,
      doc,
      versionNumber: opts.versionNumber,
      format: source.format,
      key,
      sizeBytes: buffer.length,
      seconds,
      modelUsed: opts.modelUsed ?? doc.modelUsed ?? 'none',
      templateId: source.kind === 'template' ? source.template.id : null,
      input,
      // A first generation wrote the input with the pending row; a new version may bring new input.
      writeInput: opts.versionNumber > 1 || !opts.markProcessing,
      snapshot: JSON.stringify(snapshot),
      channel: opts.channel ?? 'api',
    });
    notify(done, 'completed');
    progress(PROGRESS_STEPS, 'Done');
    return done;
  } catch (err) {
    if (stored) await storage().delete(key).catch((e: unknown) => log.warn({ err: e, key }, 'could not remove the file of a failed generation'));
    const failure = generationError(err, opts.signal);
    if (failure.status >= 500) log.error({ err, documentId: doc.id, tenantId: caller.tenantId }, 'document generation failed');
    await recordFailure(caller, doc, failure, opts);
    throw new AppError(failure.code, failure.message, failure.status, { cause: failure.cause, details: { ...failure.details, documentId: doc.id } });
  }
}

async function recordFailure(caller: Caller, doc: DocumentRef, failure: AppError, opts: ProduceOptions): Promise<void> {
  const reason = `${failure.code}: ${failure.message}`.slice(0, 10_000);
  await db().transaction(async (transaction) => {
    const update = opts.firstFile
      ? { status: 'failed', errorMessage: reason, fileUrl: null, fileSizeBytes: 0 }
      : { status: 'completed' }; // the previous version stays the current one
    await Document.update(update, { where: { id: doc.id, tenantId: caller.tenantId }, transaction });
    if (opts.quotaTaken) {
      await db().query(
        `UPDATE billing_subscription SET documents_used_this_period = GREATEST(0, documents_used_this_period - 1), updated_at = NOW() WHERE tenant_id = :tenantId`,
        { replacements: { tenantId: caller.tenantId }, transaction },
      );
    }
    await auditAs(
      caller as AuthContext,
      'document.generation_failed',
      { type: 'document', id: doc.id, details: { code: failure.code, message: failure.message, versionNumber: opts.versionNumber } },
      transaction,
    );
  });
  notify(doc, opts.firstFile ? 'failed' : 'completed');
}

function generationError(err: unknown, signal?: AbortSignal): AppError {
  if (signal?.aborted) return cancelled();
  if (err instanceof AppError) return err;
  return new AppError('generation_failed', 'The document could not be generated. It has been logged; try again or change the content.', 500, { cause: err });
}

const cancelled = () => new AppError('cancelled', 'The document generation was cancelled.', 409);

function throwIfCancelled(signal?: AbortSignal) {
  if (signal?.aborted) throw cancelled();
}

function notify(doc: Pick<DocumentRef, 'id' | 'tenantId' | 'createdById'>, status: string) {
  try {
    emit('document.updated', { tenantId: doc.tenantId, userId: doc.createdById, documentId: doc.id, status });
  } catch (err) {
    log.warn({ err, documentId: doc.id }, 'a document.updated listener failed');
  }
}
