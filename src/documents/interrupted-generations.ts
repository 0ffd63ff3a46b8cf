// A generation cut short by a crash or a restart leaves its row pending/processing for good. Rows no
// generation has touched for STALE_AFTER_MS are settled: without a file they fail with
// `generation_interrupted` and their allowance unit is given back (as for any failed generation); with
// one (a new version was being made) they go back to completed, the previous version still current.
// One transaction of set-based updates, so several instances may run it at once. Runs every few minutes
// with RUN_WORKERS (./feature.ts). A new version of a stale row may also be started by hand (see
// createDocumentVersion), which reuses the unit the interrupted run still holds.
import { QueryTypes } from 'sequelize';
import { recordAudit } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { emit } from '../events.js';

export const STALE_AFTER_MS = 15 * 60_000;
const REASON = 'generation_interrupted: The generation was interrupted (the server stopped). Generate the document again.';

interface SettledRow {
  id: string;
  tenant_id: string;
  created_by_id: string;
}

export async function settleInterruptedGenerations(now = new Date()): Promise<{ failed: number; restored: number }> {
  const cutoff = new Date(now.getTime() - STALE_AFTER_MS);
  const { failed, restored } = await db().transaction(async (transaction) => {
    const failed = await db().query<SettledRow>(
      `UPDATE documents_document d SET status = 'failed', error_message = :reason, updated_at = :now
        WHERE d.status IN ('pending', 'processing') AND d.updated_at < :cutoff
          AND NOT EXISTS (SELECT 1 FROM documents_version v WHERE v.document_id = d.id)
       RETURNING d.id, d.tenant_id, d.created_by_id`,
      { replacements: { reason: REASON, now, cutoff }, transaction, type: QueryTypes.SELECT },
    );
    const restored = await db().query<SettledRow>(
      `UPDATE documents_document d SET status = 'completed', updated_at = :now
        WHERE d.status IN ('pending', 'processing') AND d.updated_at < :cutoff
          AND EXISTS (SELECT 1 FROM documents_version v WHERE v.document_id = d.id)
       RETURNING d.id, d.tenant_id, d.created_by_id`,
      { replacements: { now, cutoff }, transaction, type: QueryTypes.SELECT },
    );
    const perTenant = new Map<string, number>();
    for (const row of failed) perTenant.set(row.tenant_id, (perTenant.get(row.tenant_id) ?? 0) + 1);
    for (const [tenantId, n] of perTenant) {
      await db().query(
        `UPDATE billing_subscription SET documents_used_this_period = GREATEST(0, documents_used_this_period - :n), updated_at = NOW() WHERE tenant_id = :tenantId`,
        { replacements: { n, tenantId }, transaction },
      );
    }
    for (const row of failed) {
      await recordAudit(
        { tenantId: row.tenant_id, userId: null, action: 'document.generation_failed', resourceType: 'document', resourceId: row.id, details: { code: 'generation_interrupted' } },
        transaction,
      );
    }
    return { failed, restored };
  });
  for (const row of failed) emit('document.updated', { tenantId: row.tenant_id, userId: row.created_by_id, documentId: row.id, status: 'failed' });
  for (const row of restored) emit('document.updated', { tenantId: row.tenant_id, userId: row.created_by_id, documentId: row.id, status: 'completed' });
  return { failed: failed.length, restored: restored.length };
}
