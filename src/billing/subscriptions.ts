// Subscriptions: every tenant has exactly one billing_subscription row. Sign-up starts the free plan in
// trial and credits its included tokens. With Stripe, the row is *derived* from the tenant's Stripe
// subscriptions (billing_stripe_subscription, kept by src/billing/webhooks.ts): the newest live one decides
// plan, status, interval and period; when none is live the tenant falls back to the free plan. Deriving it
// (rather than patching it event by event) is what keeps reordered webhooks harmless. Periods not managed
// by Stripe (free plan) are rolled over here: lazily when quotas are checked, and by rollOverPeriods().
//
// At every period start documents_used_this_period resets and the plan's included tokens are credited
// once (billing_credit_grant). Storage is not reset: it measures files that still exist.
import { QueryTypes, type Transaction } from 'sequelize';
import { recordAudit } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { Plan, Subscription, Tenant } from '../db/models/index.js';
import { log } from '../log.js';
import { addMonths } from '../util/dates.js';
import { grantTokensOnce, periodGrantKey } from './grants.js';

export const TRIAL_DAYS = 14;

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid';

/** Stripe statuses in which a subscription is the tenant's live one, and what they mean here. */
export const LIVE_STRIPE_STATUSES: Record<string, SubscriptionStatus> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'unpaid',
  paused: 'unpaid', // a paused subscription bills nothing, so paid features stop as when unpaid
};

export async function startFreeSubscription(tenant: Tenant, transaction: Transaction): Promise<Subscription> {
  const plan = await Plan.findOne({ where: { slug: 'free' }, transaction });
  if (!plan) throw new Error('the free plan is missing: run the migrations');
  const now = new Date();
  const subscription = await Subscription.create(
    {
      tenantId: tenant.id,
      planId: plan.id,
      status: 'trialing',
      interval: 'monthly',
      trialEnd: new Date(now.getTime() + TRIAL_DAYS * 86_400_000),
      currentPeriodStart: now,
      currentPeriodEnd: addMonths(now, 1),
    },
    { transaction },
  );
  await tenant.update({ tier: plan.tier, maxUsers: plan.maxUsers, maxStorageGb: plan.maxStorageGb }, { transaction });
  await grantTokensOnce(
    { key: periodGrantKey(tenant.id, now), tenantId: tenant.id, tokens: plan.includedTokens ?? 0, operation: 'included_tokens', metadata: { plan: plan.slug, periodStart: now.toISOString() } },
    transaction,
  );
  return subscription;
}

export interface SubscriptionRow {
  id: string;
  tenant_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  interval: 'monthly' | 'yearly';
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  trial_end: Date | null;
  current_period_start: Date;
  current_period_end: Date;
  cancelled_at: Date | null;
  documents_used_this_period: number;
  storage_used_gb: number;
}

export interface StripeSubscriptionRow {
  id: string;
  tenant_id: string;
  customer_id: string;
  status: string;
  price_id: string | null;
  plan_id: string | null;
  interval: 'monthly' | 'yearly' | null;
  stripe_created: Date | null;
  current_period_start: Date | null;
  current_period_end: Date | null;
  trial_end: Date | null;
  cancel_at_period_end: boolean;
  canceled_at: Date | null;
  ended_at: Date | null;
  state_event_created: number;
  state_event_rank: number;
}

/** The tenant's subscription row, locked for the rest of the transaction (one writer per tenant). */
export async function lockTenantSubscription(tenantId: string, transaction: Transaction): Promise<SubscriptionRow | undefined> {
  const rows = await db().query<SubscriptionRow>(`SELECT * FROM billing_subscription WHERE tenant_id = :tenantId FOR UPDATE`, {
    replacements: { tenantId },
    transaction,
    type: QueryTypes.SELECT,
  });
  return rows[0];
}

/** The tenant's live Stripe subscription: the newest one in a live status. */
export async function liveStripeSubscription(tenantId: string, transaction?: Transaction): Promise<StripeSubscriptionRow | undefined> {
  const rows = await db().query<StripeSubscriptionRow>(
    `SELECT * FROM billing_stripe_subscription WHERE tenant_id = :tenantId AND status IN (:live)
      ORDER BY stripe_created DESC NULLS LAST, created_at DESC LIMIT 1`,
    { replacements: { tenantId, live: Object.keys(LIVE_STRIPE_STATUSES) }, transaction, type: QueryTypes.SELECT },
  );
  return rows[0];
}

interface Applied {
  planId: string;
  status: SubscriptionStatus;
  interval: 'monthly' | 'yearly';
  stripeSubscriptionId: string | null;
  trialEnd: Date | null;
  periodStart: Date;
  periodEnd: Date;
  cancelledAt: Date | null;
}

/** Tenant tier and limits follow the plan; trial ↔ active follows the status (suspension is an admin's call). */
async function followPlan(tenantId: string, plan: Plan, status: SubscriptionStatus, transaction: Transaction) {
  await db().query(
    `UPDATE core_tenant SET tier = :tier, max_users = :maxUsers, max_storage_gb = :maxStorageGb,
       status = CASE WHEN status IN ('trial', 'active') THEN CAST(:status AS tenant_status) ELSE status END, updated_at = NOW()
     WHERE id = :tenantId`,
    { replacements: { tier: plan.tier, maxUsers: plan.maxUsers, maxStorageGb: plan.maxStorageGb, status: status === 'trialing' ? 'trial' : 'active', tenantId }, transaction },
  );
}

async function writeSubscription(row: SubscriptionRow, next: Applied, newPeriod: boolean, transaction: Transaction) {
  await db().query(
    `UPDATE billing_subscription SET plan_id = :planId, status = :status, interval = :interval,
       stripe_subscription_id = :stripeSubscriptionId, trial_end = :trialEnd, current_period_start = :periodStart,
       current_period_end = :periodEnd, cancelled_at = :cancelledAt,
       documents_used_this_period = CASE WHEN :newPeriod THEN 0 ELSE documents_used_this_period END, updated_at = NOW()
     WHERE id = :id`,
    { replacements: { ...next, newPeriod, id: row.id }, transaction },
  );
}

/**
 * The end of a paid subscription the tenant has not fallen back from yet: the one it is linked to, or
 * (when the deletion arrived before any other event about it) a cancelled one that ended after the current
 * period began. Either order of delivery then ends in the same free period.
 */
async function endedSince(tenantId: string, row: SubscriptionRow, transaction: Transaction): Promise<{ at: Date | null } | undefined> {
  const ended = await db().query<{ id: string; at: Date | null }>(
    `SELECT id, COALESCE(ended_at, canceled_at) AS at FROM billing_stripe_subscription
      WHERE tenant_id = :tenantId AND (id = :linked OR (status = 'canceled' AND COALESCE(ended_at, canceled_at) > :periodStart))
      ORDER BY (id = :linked) DESC, COALESCE(ended_at, canceled_at) DESC NULLS LAST LIMIT 1`,
    { replacements: { tenantId, linked: row.stripe_subscription_id ?? '', periodStart: row.current_period_start }, transaction, type: QueryTypes.SELECT },
  );
  if (row.stripe_subscription_id) return { at: ended[0]?.id === row.stripe_subscription_id ? ended[0].at : null };
  return ended[0];
}

/**
 * Re-derive the tenant's subscription from its Stripe subscriptions (inside the webhook's transaction,
 * after the Stripe rows changed). Returns the ids of older live Stripe subscriptions the newest one
 * supersedes (a plan change through Checkout), which the caller cancels at Stripe after commit.
 */
export async function syncTenantSubscription(
  tenantId: string,
  transaction: Transaction,
  cause: { eventId: string; eventType: string; at: Date },
): Promise<{ superseded: string[] }> {
  const row = await lockTenantSubscription(tenantId, transaction);
  if (!row) return { superseded: [] };
  const live = await liveStripeSubscription(tenantId, transaction);
  let next: Applied;
  let plan: Plan | null;
  let ended: { at: Date | null } | undefined;
  if (live) {
    // A price we cannot map (logged by the webhook) keeps the plan; status and period still follow.
    plan = (live.plan_id ? await Plan.findByPk(live.plan_id, { transaction }) : null) ?? (await Plan.findByPk(row.plan_id, { transaction }));
    next = {
      planId: plan!.id,
      status: LIVE_STRIPE_STATUSES[live.status]!,
      interval: live.interval ?? row.interval,
      stripeSubscriptionId: live.id,
      trialEnd: live.trial_end,
      periodStart: live.current_period_start ?? row.current_period_start,
      periodEnd: live.current_period_end ?? row.current_period_end,
      cancelledAt: live.canceled_at,
    };
  } else if ((ended = await endedSince(tenantId, row, transaction))) {
    // The paid subscription ended: back to the free plan, with a fresh free period from the end.
    plan = await Plan.findOne({ where: { slug: 'free' }, transaction });
    const start = ended.at ?? cause.at;
    next = {
      planId: plan!.id,
      status: 'active',
      interval: 'monthly',
      stripeSubscriptionId: null,
      trialEnd: row.trial_end,
      periodStart: start,
      periodEnd: addMonths(start, 1),
      cancelledAt: start,
    };
    // The free period's included tokens, once (keyed by when the paid subscription ended).
    await grantTokensOnce(
      { key: periodGrantKey(tenantId, start), tenantId, tokens: plan!.includedTokens ?? 0, operation: 'included_tokens', metadata: { plan: plan!.slug, periodStart: start.toISOString(), stripeEvent: cause.eventId } },
      transaction,
    );
  } else {
    return { superseded: [] };
  }

  const newPeriod = row.stripe_subscription_id !== next.stripeSubscriptionId || +row.current_period_start !== +next.periodStart;
  const changed =
    newPeriod ||
    row.plan_id !== next.planId ||
    row.status !== next.status ||
    row.interval !== next.interval ||
    +(row.current_period_end ?? 0) !== +next.periodEnd ||
    +(row.cancelled_at ?? 0) !== +(next.cancelledAt ?? 0) ||
    +(row.trial_end ?? 0) !== +(next.trialEnd ?? 0);
  if (changed) {
    await writeSubscription(row, next, newPeriod, transaction);
    await followPlan(tenantId, plan!, next.status, transaction);
    const fromPlan = row.plan_id === next.planId ? plan! : await Plan.findByPk(row.plan_id, { transaction });
    await recordAudit(
      {
        tenantId,
        action: 'billing.subscription_changed',
        resourceType: 'subscription',
        resourceId: row.id,
        details: {
          from: { plan: fromPlan?.slug, status: row.status, interval: row.interval, stripeSubscriptionId: row.stripe_subscription_id },
          to: { plan: plan!.slug, status: next.status, interval: next.interval, stripeSubscriptionId: next.stripeSubscriptionId },
          newPeriod,
          stripeEvent: cause.eventId,
          stripeEventType: cause.eventType,
        },
      },
      transaction,
    );
  }
  const superseded = live
    ? await db().query<{ id: string }>(
        `SELECT id FROM billing_stripe_subscription WHERE tenant_id = :tenantId AND id <> :id AND status IN (:live)`,
        { replacements: { tenantId, id: live.id, live: Object.keys(LIVE_STRIPE_STATUSES) }, transaction, type: QueryTypes.SELECT },
      )
    : [];
  return { superseded: superseded.map((s) => s.id) };
}

/**
 * Included tokens for one period of a Stripe subscription, once per (subscription, period start). Every
 * event that shows a period in good standing with a known plan may grant it, so the credit does not
 * depend on which of the period's events arrives first (the first one's plan decides the amount).
 */
export async function grantStripePeriod(
  g: { tenantId: string; subscriptionId: string; planId: string | null; periodStart: Date | null; status: string; eventId: string },
  transaction: Transaction,
): Promise<void> {
  if (!g.planId || !g.periodStart || (g.status !== 'active' && g.status !== 'trialing')) return;
  const plan = await Plan.findByPk(g.planId, { transaction });
  if (!plan) return;
  await grantTokensOnce(
    {
      key: periodGrantKey(g.subscriptionId, g.periodStart),
      tenantId: g.tenantId,
      tokens: plan.includedTokens ?? 0,
      operation: 'included_tokens',
      metadata: { plan: plan.slug, periodStart: g.periodStart.toISOString(), stripeSubscriptionId: g.subscriptionId, stripeEvent: g.eventId },
    },
    transaction,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Periods not managed by Stripe

const isDue = (row: SubscriptionRow, now: Date) =>
  !row.stripe_subscription_id && (+row.current_period_end <= +now || (row.status === 'trialing' && !!row.trial_end && +row.trial_end <= +now));

/**
 * Roll a locked, Stripe-less subscription into the period containing `now` (skipped periods earn
 * nothing), end an expired trial, reset the period's document count and credit its included tokens.
 * Returns true when something changed.
 */
export async function rollOverIfDue(row: SubscriptionRow, transaction: Transaction, now = new Date()): Promise<boolean> {
  if (!isDue(row, now)) return false;
  let start = row.current_period_start;
  let end = row.current_period_end;
  for (let i = 1; +end <= +now; i++) {
    start = end;
    end = addMonths(row.current_period_start, i + 1);
  }
  const newPeriod = +start !== +row.current_period_start;
  const status: SubscriptionStatus = row.status === 'trialing' && row.trial_end && +row.trial_end <= +now ? 'active' : row.status;
  await db().query(
    `UPDATE billing_subscription SET current_period_start = :start, current_period_end = :end, status = :status,
       documents_used_this_period = CASE WHEN :newPeriod THEN 0 ELSE documents_used_this_period END, updated_at = NOW()
     WHERE id = :id`,
    { replacements: { start, end, status, newPeriod, id: row.id }, transaction },
  );
  const plan = await Plan.findByPk(row.plan_id, { transaction });
  if (status !== row.status) await followPlan(row.tenant_id, plan!, status, transaction);
  if (newPeriod && (status === 'active' || status === 'trialing'))
    await grantTokensOnce(
      { key: periodGrantKey(row.tenant_id, start), tenantId: row.tenant_id, tokens: plan!.includedTokens ?? 0, operation: 'included_tokens', metadata: { plan: plan!.slug, periodStart: start.toISOString() } },
      transaction,
    );
  Object.assign(row, { current_period_start: start, current_period_end: end, status, documents_used_this_period: newPeriod ? 0 : row.documents_used_this_period });
  return true;
}

/**
 * Roll over every Stripe-less subscription whose period (or trial) has ended. For `npm run db:maintain`
 * and the hourly worker; quota checks also do it lazily per tenant. Returns how many were rolled over.
 */
export async function rollOverPeriods(now = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await db().query<{ tenant_id: string }>(
      `SELECT tenant_id FROM billing_subscription WHERE stripe_subscription_id IS NULL
         AND (current_period_end <= :now OR (status = 'trialing' AND trial_end <= :now))
       ORDER BY current_period_end LIMIT 200`,
      { replacements: { now }, type: QueryTypes.SELECT },
    );
    let rolled = 0;
    for (const { tenant_id } of due) {
      try {
        const done = await db().transaction(async (transaction) => {
          const row = await lockTenantSubscription(tenant_id, transaction);
          return row ? rollOverIfDue(row, transaction, now) : false;
        });
        if (done) rolled++;
      } catch (err) {
        log.warn({ err, tenantId: tenant_id }, 'period roll-over failed');
      }
    }
    total += rolled;
    if (due.length < 200 || rolled === 0) return total;
  }
}
