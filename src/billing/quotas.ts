// Plan quotas, enforced where the work happens: documents per month (counted on the subscription,
// reset at each period start), storage (max_storage_gb), users (src/auth/users.ts) and tokens
// (src/billing/ledger.ts). Each check locks the subscription row inside the caller's transaction, so
// concurrent requests cannot both take the last unit. A free (Stripe-less) period that has ended is rolled
// over right there, so its counters reset even when `npm run db:maintain` has not run.
//
// What a subscription's status blocks: past_due is a grace period (everything works); unpaid (also a
// paused Stripe subscription) and canceled block document generation and uploads (subscription_inactive).
// Chat keeps spending whatever tokens are left, and buying tokens or fixing the card stays possible.
import { QueryTypes, type Transaction } from 'sequelize';
import { db } from '../db/index.js';
import { AppError } from '../errors.js';
import { lockTenantSubscription, rollOverIfDue } from './subscriptions.js';

interface QuotaRow {
  id: string;
  status: string;
  documents_used_this_period: number;
  storage_used_gb: number;
  max_documents_per_month: number;
  max_storage_gb: number;
}

async function lockSubscription(tenantId: string, transaction: Transaction): Promise<QuotaRow> {
  const locked = await lockTenantSubscription(tenantId, transaction);
  if (locked) await rollOverIfDue(locked, transaction);
  const rows = await db().query<QuotaRow>(
    `SELECT s.id, s.status, s.documents_used_this_period, s.storage_used_gb, p.max_documents_per_month, p.max_storage_gb
       FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id
      WHERE s.tenant_id = :tenantId FOR UPDATE OF s`,
    { replacements: { tenantId }, transaction, type: QueryTypes.SELECT },
  );
  if (!rows[0]) throw new AppError('subscription_missing', 'Your team has no subscription.', 402);
  return rows[0];
}

/** Paid features stop while an invoice is unpaid. */
export function assertSubscriptionUsable(status: string): void {
  if (status === 'unpaid' || status === 'canceled')
    throw new AppError('subscription_inactive', `Your subscription is ${status}. Update the payment method or choose a plan to continue.`, 402);
}

/** Take one document of this period's allowance (inside the generation's transaction). */
export async function consumeDocumentQuota(tenantId: string, transaction: Transaction): Promise<void> {
  const s = await lockSubscription(tenantId, transaction);
  assertSubscriptionUsable(s.status);
  if (s.documents_used_this_period >= s.max_documents_per_month)
    throw new AppError('document_quota_exceeded', `Your plan allows ${s.max_documents_per_month} documents a month, and they are used up. Upgrade the plan or wait for the next period.`, 402);
  await db().query(`UPDATE billing_subscription SET documents_used_this_period = documents_used_this_period + 1, updated_at = NOW() WHERE id = :id`, {
    replacements: { id: s.id },
    transaction,
  });
}

/** Reserve storage for an upload (bytes > 0) or release it (bytes < 0). */
export async function changeStorageUsage(tenantId: string, bytes: number, transaction: Transaction): Promise<void> {
  const s = await lockSubscription(tenantId, transaction);
  const gb = bytes / 1024 ** 3;
  if (bytes > 0) {
    assertSubscriptionUsable(s.status);
    if (s.storage_used_gb + gb > s.max_storage_gb)
      throw new AppError('storage_quota_exceeded', `This upload would exceed your plan's ${s.max_storage_gb} GB of storage. Delete files or upgrade the plan.`, 402);
  }
  await db().query(`UPDATE billing_subscription SET storage_used_gb = GREATEST(0, storage_used_gb + :gb), updated_at = NOW() WHERE id = :id`, {
    replacements: { id: s.id, gb },
    transaction,
  });
}
