// What a team has: its plan and subscription, this period's usage against the plan's limits, the token
// balance and the ledger's history. Reads roll an ended free period over first, so the numbers shown are
// the current period's.
import { QueryTypes } from 'sequelize';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { recordAudit } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { Plan } from '../db/models/index.js';
import { AppError } from '../errors.js';
import { presentPlan, type PlanView } from './catalog.js';
import type { BillingActor } from './checkout.js';
import { isBillingConfigured } from './stripe-client.js';
import { liveStripeSubscription, lockTenantSubscription, rollOverIfDue } from './subscriptions.js';

export interface TokenBalanceView {
  balance: number;
  lifetimePurchased: number;
  lifetimeUsed: number;
  lowBalanceThreshold: number;
  lowBalanceAlertSent: boolean;
}

export interface BillingOverview {
  plan: PlanView;
  subscription: {
    status: string;
    interval: string;
    trialEnd: Date | null;
    currentPeriodStart: Date;
    currentPeriodEnd: Date;
    cancelledAt: Date | null;
    cancelAtPeriodEnd: boolean;
    managedByStripe: boolean;
    /** What the status stops right now (empty when nothing is blocked). */
    blocked: string[];
  };
  usage: {
    documentsUsed: number;
    documentsLimit: number;
    storageUsedGb: number;
    storageLimitGb: number;
    activeUsers: number;
    maxUsers: number;
  };
  tokens: TokenBalanceView;
  billingConfigured: boolean;
}

export async function getTokenBalance(tenantId: string): Promise<TokenBalanceView> {
  const rows = await db().query<{ balance: number; lifetime_purchased: number; lifetime_used: number; low_balance_threshold: number; low_balance_alert_sent: boolean }>(
    `SELECT balance, lifetime_purchased, lifetime_used, low_balance_threshold, low_balance_alert_sent FROM billing_token_balance WHERE tenant_id = :tenantId`,
    { replacements: { tenantId }, type: QueryTypes.SELECT },
  );
  const r = rows[0];
  return {
    balance: r?.balance ?? 0,
    lifetimePurchased: r?.lifetime_purchased ?? 0,
    lifetimeUsed: r?.lifetime_used ?? 0,
    lowBalanceThreshold: r?.low_balance_threshold ?? 1000,
    lowBalanceAlertSent: r?.low_balance_alert_sent ?? false,
  };
}

const BLOCKED: Record<string, string[]> = {
  unpaid: ['document_generation', 'uploads'],
  canceled: ['document_generation', 'uploads'],
};

export async function getBillingOverview(tenantId: string): Promise<BillingOverview> {
  const row = await db().transaction(async (transaction) => {
    const locked = await lockTenantSubscription(tenantId, transaction);
    if (locked) await rollOverIfDue(locked, transaction);
    return locked;
  });
  if (!row) throw new AppError('subscription_missing', 'Your team has no subscription.', 402);
  const [plan, live, users, tokens] = await Promise.all([
    Plan.findByPk(row.plan_id),
    row.stripe_subscription_id ? liveStripeSubscription(tenantId) : Promise.resolve(undefined),
    db().query<{ n: number }>(`SELECT count(*)::int AS n FROM core_user WHERE tenant_id = :tenantId AND is_active`, { replacements: { tenantId }, type: QueryTypes.SELECT }),
    getTokenBalance(tenantId),
  ]);
  const limits = await db().query<{ max_users: number | null }>(`SELECT max_users FROM core_tenant WHERE id = :tenantId`, { replacements: { tenantId }, type: QueryTypes.SELECT });
  return {
    plan: presentPlan(plan!),
    subscription: {
      status: row.status,
      interval: row.interval,
      trialEnd: row.trial_end,
      currentPeriodStart: row.current_period_start,
      currentPeriodEnd: row.current_period_end,
      cancelledAt: row.cancelled_at,
      cancelAtPeriodEnd: live?.cancel_at_period_end ?? false,
      managedByStripe: !!row.stripe_subscription_id,
      blocked: BLOCKED[row.status] ?? [],
    },
    usage: {
      documentsUsed: row.documents_used_this_period ?? 0,
      documentsLimit: plan!.maxDocumentsPerMonth,
      storageUsedGb: Math.round((row.storage_used_gb ?? 0) * 1e6) / 1e6,
      storageLimitGb: plan!.maxStorageGb,
      activeUsers: users[0]?.n ?? 0,
      maxUsers: limits[0]?.max_users ?? plan!.maxUsers,
    },
    tokens,
    billingConfigured: isBillingConfigured(),
  };
}

export interface LedgerEntry {
  id: string;
  amount: number;
  operation: string;
  balanceAfter: number;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export async function listTokenTransactions(
  auth: AuthContext,
  q: { limit: number; offset: number; operation?: string; from?: Date; to?: Date },
): Promise<{ transactions: LedgerEntry[]; total: number }> {
  authorize(policies.viewBilling(auth), 'Only managers, admins and owners can see the token ledger.');
  const where = [`tenant_id = :tenantId`];
  if (q.operation) where.push(`operation = :operation`);
  if (q.from) where.push(`created_at >= :from`);
  if (q.to) where.push(`created_at < :to`);
  const replacements = { tenantId: auth.tenantId, operation: q.operation, from: q.from, to: q.to, limit: q.limit, offset: q.offset };
  const [rows, count] = await Promise.all([
    db().query<{ id: string; amount: number; operation: string; balance_after: number; metadata: Record<string, unknown>; created_at: Date }>(
      `SELECT id, amount, operation, balance_after, metadata, created_at FROM billing_token_transaction WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset`,
      { replacements, type: QueryTypes.SELECT },
    ),
    db().query<{ n: number }>(`SELECT count(*)::int AS n FROM billing_token_transaction WHERE ${where.join(' AND ')}`, { replacements, type: QueryTypes.SELECT }),
  ]);
  return {
    transactions: rows.map((r) => ({ id: r.id, amount: r.amount, operation: r.operation, balanceAfter: r.balance_after, metadata: r.metadata ?? {}, createdAt: r.created_at })),
    total: count[0]?.n ?? 0,
  };
}

/**
 * Set the low-balance alert threshold. The alert is considered already given when the balance is below
 * the new threshold (whoever sets it can see the balance); it re-arms with the next top-up above it.
 */
export async function setLowBalanceThreshold(actor: BillingActor, threshold: number): Promise<TokenBalanceView> {
  authorize(policies.manageBilling(actor as AuthContext), 'Only owners and admins can change billing settings.');
  await db().transaction(async (transaction) => {
    await db().query(`INSERT INTO billing_token_balance (tenant_id, balance) VALUES (:tenantId, 0) ON CONFLICT (tenant_id) DO NOTHING`, {
      replacements: { tenantId: actor.tenantId },
      transaction,
    });
    await db().query(
      `UPDATE billing_token_balance SET low_balance_threshold = :threshold, low_balance_alert_sent = (balance < :threshold), updated_at = NOW()
        WHERE tenant_id = :tenantId`,
      { replacements: { threshold, tenantId: actor.tenantId }, transaction },
    );
    await recordAudit(
      { tenantId: actor.tenantId, userId: actor.userId, action: 'billing.alert_threshold_changed', resourceType: 'token_balance', details: { threshold }, ip: actor.ip, userAgent: actor.userAgent },
      transaction,
    );
  });
  return getTokenBalance(actor.tenantId);
}
