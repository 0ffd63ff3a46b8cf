// The database side of a generation (see ./generate-document.ts for the lifecycle): one statement per
// step, because a small document renders in a few milliseconds and a round trip per row would cost more
// than the render.
//
//   1. pending:    take one unit of the month's allowance AND insert the pending row;
//   2. processing: mark the row (while the file renders);
//   3. completed:  lock the row, reserve the storage, complete the row, write documents_version N, bump the
//                  template's usage_count, one analytics_usage row, one audit row.
//
// Each statement applies all of its parts or none (one statement, one transaction), and the quota parts are
// conditional UPDATEs on the subscription row: the row lock and the re-check on its newest version are
// PostgreSQL's, so concurrent generations can never take more than the allowance or the storage. Whenever
// a statement does not apply (allowance used up, subscription unpaid or its free period due for a
// roll-over, storage full, document deleted, an odd NULL...), the same step runs again as the general
// code in a transaction (consumeDocumentQuota, changeStorageUsage, recordUsage, auditAs), which either
// throws exactly the error it always threw or succeeds (the condition changed meanwhile). The rows written
// are the same either way: same columns, same values.
//
// The statements go straight through pg with their values as typed parameters (sqlNamed, src/db/sql.ts):
// Sequelize's replacement and escaping pass over a statement carrying the whole content cost more CPU
// than PostgreSQL's work on it.
//
// Steps 1 and 2 commit without waiting for the WAL flush (ASYNC_COMMIT, src/db/sql.ts: SET LOCAL for the
// statement's own transaction): they hold document rows, and step 3's ordinary
// commit, written after them in the WAL, makes them durable too. Step 3 waits for the disk as before.
import type { Transaction } from 'sequelize';
import { auditAs, normaliseIp } from '../analytics/audit.js';
import { recordUsage } from '../analytics/usage.js';
import type { AuthContext } from '../auth/context.js';
import { changeStorageUsage, consumeDocumentQuota } from '../billing/quotas.js';
import { db } from '../db/index.js';
import { ASYNC_COMMIT, sqlNamed } from '../db/sql.js';
import { Document, DocumentVersion } from '../db/models/index.js';
import { documentNotFound, type Caller } from './access.js';
import type { DocumentFormat } from './formats.js';

/** What the generation keeps of its document between the steps. */
export interface DocumentRef {
  id: string;
  tenantId: string;
  createdById: string;
  modelUsed: string | null;
}

export interface PendingDocument extends DocumentRef {
  templateId: string | null;
  title: string;
  description: string | null;
  format: DocumentFormat;
  inputData: unknown;
  generatedContent: string | null;
  visibility: string;
}

export interface CompletedVersion {
  caller: Caller;
  doc: DocumentRef;
  versionNumber: number;
  format: DocumentFormat;
  key: string;
  sizeBytes: number;
  seconds: number;
  modelUsed: string;
  /** The template whose usage_count goes up (documents filled from a template). */
  templateId: string | null;
  /** What the row's input_data and generated_content hold once this completes (not read back: they can be large). */
  input: { inputData: unknown; generatedContent: string | null };
  /** A new version may bring new input: `input` is written to the row with it. */
  writeInput: boolean;
  /** documents_version.content_snapshot. */
  snapshot: string;
  channel: string;
}

// The subscription may be used (assertSubscriptionUsable) and is not a Stripe-less one whose period or
// trial has ended (rollOverIfDue): the general code handles those.
const SUBSCRIPTION_READY = `(s.status IS NULL OR s.status NOT IN ('unpaid', 'canceled'))
     AND NOT (s.stripe_subscription_id IS NULL
              AND (s.current_period_end <= :now::timestamp OR (s.status = 'trialing' AND s.trial_end IS NOT NULL AND s.trial_end <= :now::timestamp)))`;

const PENDING_COLUMNS = `id, tenant_id, created_by_id, template_id, title, description, format, status, input_data, generated_content,
                         file_size_bytes, tokens_used, model_used, visibility, created_at, updated_at`;
// Typed, because the values are parameters and INSERT … SELECT gives an untyped one no type of its own.
const PENDING_VALUES = `:id::uuid, :tenantId::uuid, :createdById::uuid, :templateId::uuid, :title::varchar, :description::text,
                        :format::document_format, 'pending', :inputData::jsonb, :generatedContent::text,
                        0, 0, :modelUsed::varchar, :visibility::document_visibility, :now::timestamp, :now::timestamp`;

const pendingReplacements = (d: PendingDocument) => ({
  ...d,
  inputData: JSON.stringify(d.inputData),
  now: utcNow(),
});

// Timestamps as the models write them (TIMESTAMP columns hold UTC), as ISO text: a TIMESTAMP literal's zone
// is ignored, and the 'Z' says it is UTC to a reader. Cheaper than Sequelize's formatting of a Date.
const utcNow = () => new Date().toISOString();

/** Step 1: one unit of the allowance and the pending row, in one statement (else the general code). */
export async function insertPendingDocument(d: PendingDocument): Promise<void> {
  const replacements = pendingReplacements(d);
  const rows = await sqlNamed(
    `WITH quota AS (
       UPDATE billing_subscription s SET documents_used_this_period = s.documents_used_this_period + 1, updated_at = NOW()
         FROM billing_plan p
        WHERE s.tenant_id = :tenantId::uuid AND p.id = s.plan_id AND ${SUBSCRIPTION_READY}
          AND s.documents_used_this_period < p.max_documents_per_month
       RETURNING s.id
     ), doc AS (
       INSERT INTO documents_document (${PENDING_COLUMNS}) SELECT ${PENDING_VALUES} FROM quota RETURNING id
     )
     SELECT id, ${ASYNC_COMMIT} AS relaxed FROM doc`,
    replacements,
  );
  if (rows.length === 1) return;
  await db().transaction(async (transaction) => {
    await relaxCommit(transaction);
    await consumeDocumentQuota(d.tenantId, transaction); // throws the reason (quota used up, unpaid...)
    await sqlNamed(`INSERT INTO documents_document (${PENDING_COLUMNS}) VALUES (${PENDING_VALUES})`, replacements, transaction);
  });
}

/** Step 2 (runs while the file renders). */
export async function markDocumentProcessing(doc: DocumentRef): Promise<void> {
  await sqlNamed(
    `WITH doc AS (UPDATE documents_document SET status = 'processing', updated_at = :now::timestamp WHERE id = :id::uuid AND tenant_id = :tenantId::uuid RETURNING id)
     SELECT ${ASYNC_COMMIT} AS relaxed FROM doc`,
    { id: doc.id, tenantId: doc.tenantId, now: utcNow() },
  );
}

/** Step 3: the row completed with its new version, storage, usage and audit, in one statement (else the general code). */
export async function completeVersion(v: CompletedVersion): Promise<Document> {
  const { caller, doc } = v;
  if (v.sizeBytes > 0) {
    // (changeStorageUsage checks nothing for an empty file: that rare case takes the general code.)
    const [row] = await sqlNamed(completionSql(v), completionReplacements(v));
    if (row) return asDocument({ ...row, input_data: v.input.inputData, generated_content: v.input.generatedContent });
  }
  return db().transaction(async (transaction) => {
    // The row first (locking it), then the subscription: the same order as every other document change.
    const [, rows] = await Document.update(
      {
        status: 'completed',
        fileUrl: v.key,
        fileSizeBytes: v.sizeBytes,
        generationTimeSeconds: v.seconds,
        tokensUsed: 0,
        modelUsed: v.modelUsed,
        errorMessage: null,
        ...(v.writeInput ? v.input : {}),
      },
      { where: { id: doc.id, tenantId: caller.tenantId }, returning: true, transaction },
    );
    const current = rows[0];
    if (!current) throw documentNotFound(); // deleted while it was being generated
    await changeStorageUsage(caller.tenantId, v.sizeBytes, transaction);
    await DocumentVersion.create(
      { documentId: doc.id, versionNumber: v.versionNumber, fileUrl: v.key, contentSnapshot: v.snapshot, createdById: caller.userId },
      { transaction },
    );
    if (v.templateId) {
      await db().query('UPDATE documents_template SET usage_count = COALESCE(usage_count, 0) + 1 WHERE id = :id AND tenant_id = :tenantId', {
        replacements: { id: v.templateId, tenantId: caller.tenantId },
        transaction,
      });
    }
    const details = { format: v.format, versionNumber: v.versionNumber, sizeBytes: v.sizeBytes, templateId: current.templateId };
    await recordUsage(
      {
        tenantId: caller.tenantId,
        userId: caller.userId,
        activityType: 'document_generated',
        tokensUsed: 0,
        executionTimeSeconds: v.seconds,
        metadata: { documentId: doc.id, ...details, channel: v.channel },
      },
      transaction,
    );
    await auditAs(caller as AuthContext, auditAction(v), { type: 'document', id: doc.id, details }, transaction);
    return current;
  });
}

const auditAction = (v: CompletedVersion) => (v.versionNumber === 1 ? 'document.generated' : 'document.version_created');

// The same rows as the transaction above. The document row is locked first (`target`, with the lock its
// UPDATE takes anyway), then the subscription (`quota`: the storage check and reservation, as
// changeStorageUsage), and every write after that happens only if both did. Usage metadata and audit
// details take the row's own template_id, as above.
// Every column but the two large ones the caller already holds (v.input): reading them back would
// de-TOAST and parse the whole content again.
const RETURNED = `d.id, d.tenant_id, d.created_by_id, d.template_id, d.title, d.description, d.format, d.status, d.file_url, d.file_size_bytes,
              d.generation_time_seconds, d.tokens_used, d.model_used, d.error_message, d.visibility, d.created_at, d.updated_at`;

function completionSql(v: CompletedVersion): string {
  return `WITH target AS (
       SELECT id FROM documents_document WHERE id = :id::uuid AND tenant_id = :tenantId::uuid FOR NO KEY UPDATE
     ), quota AS (
       UPDATE billing_subscription s SET storage_used_gb = GREATEST(0, s.storage_used_gb + :gb::float8), updated_at = NOW()
         FROM billing_plan p, target
        WHERE s.tenant_id = :tenantId::uuid AND p.id = s.plan_id AND ${SUBSCRIPTION_READY}
          AND s.storage_used_gb + :gb::float8 <= p.max_storage_gb
       RETURNING s.id
     ), doc AS (
       UPDATE documents_document d SET status = 'completed', file_url = :key::text, file_size_bytes = :sizeBytes::int8,
              generation_time_seconds = :seconds::float8, tokens_used = 0, model_used = :modelUsed::varchar, error_message = NULL,
              ${v.writeInput ? 'input_data = :inputData::jsonb, generated_content = :generatedContent::text,' : ''} updated_at = :now::timestamp
         FROM quota WHERE d.id = :id::uuid AND d.tenant_id = :tenantId::uuid
       RETURNING ${RETURNED}
     ), version AS (
       INSERT INTO documents_version (id, document_id, version_number, file_url, content_snapshot, created_by_id, created_at)
       SELECT gen_random_uuid(), doc.id, :versionNumber::int4, :key::text, :snapshot::text, :userId::uuid, :now::timestamp FROM doc
     ), ${v.templateId ? `template AS (
       UPDATE documents_template SET usage_count = COALESCE(usage_count, 0) + 1
        WHERE id = :templateId::uuid AND tenant_id = :tenantId::uuid AND EXISTS (SELECT 1 FROM doc)
     ), ` : ''}usage AS (
       INSERT INTO analytics_usage (id, tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, created_at)
       SELECT gen_random_uuid(), :tenantId::uuid, :userId::uuid, 'document_generated', 0, :seconds::float8,
              :usageMetadata::jsonb || jsonb_build_object('templateId', doc.template_id), :now::timestamp FROM doc
     ), audit AS (
       INSERT INTO audit_log (id, tenant_id, user_id, action, resource_type, resource_id, details, ip_address, user_agent, created_at)
       SELECT gen_random_uuid(), :tenantId::uuid, :userId::uuid, :action::varchar, 'document', doc.id,
              :auditDetails::jsonb || jsonb_build_object('templateId', doc.template_id), :ip::inet, :userAgent::text, :now::timestamp FROM doc
     )
     SELECT * FROM doc`;
}

function completionReplacements(v: CompletedVersion) {
  const { caller } = v;
  const details = { format: v.format, versionNumber: v.versionNumber, sizeBytes: v.sizeBytes };
  return {
    id: v.doc.id,
    tenantId: caller.tenantId,
    userId: caller.userId,
    gb: v.sizeBytes / 1024 ** 3,
    key: v.key,
    sizeBytes: v.sizeBytes,
    seconds: v.seconds,
    modelUsed: v.modelUsed,
    inputData: v.writeInput ? JSON.stringify(v.input.inputData) : null,
    generatedContent: v.writeInput ? v.input.generatedContent : null,
    versionNumber: v.versionNumber,
    snapshot: v.snapshot,
    templateId: v.templateId,
    usageMetadata: JSON.stringify({ documentId: v.doc.id, ...details, channel: v.channel }),
    action: auditAction(v),
    // As auditAs: the API key's id joins the details; ip and user agent as recordAudit stores them.
    auditDetails: JSON.stringify({ ...details, ...(caller.apiKeyId ? { apiKeyId: caller.apiKeyId } : {}) }),
    ip: normaliseIp(caller.ip),
    userAgent: caller.userAgent?.slice(0, 1000) ?? null,
    now: utcNow(),
  };
}

/** A returned documents_document row as the model instance callers get (no query: its values as read). */
function asDocument(row: Record<string, unknown>): Document {
  const values: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) values[attributeOf().get(column) ?? column] = value;
  return Document.build(values, { raw: true, isNewRecord: false });
}

let attributes: Map<string, string> | undefined;
const attributeOf = () =>
  (attributes ??= new Map(Object.entries(Document.getAttributes()).map(([name, attribute]) => [attribute.field ?? name, name])));

/** This transaction's commit does not wait for the WAL flush (see the top of this module). */
export const relaxCommit = (transaction: Transaction) => db().query('SET LOCAL synchronous_commit = off', { transaction });
