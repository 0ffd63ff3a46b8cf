// Subscriptions: every tenant has one. Sign-up starts the free plan in trial and credits the plan's
// included tokens for the first period.
import { addMonths } from '../util/dates.js';
import type { Transaction } from 'sequelize';
import { Plan, Subscription, Tenant } from '../db/models/index.js';
import { creditTokens } from './ledger.js';

export const TRIAL_DAYS = 14;

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
  if ((plan.includedTokens ?? 0) > 0)
    await creditTokens(
      { tenantId: tenant.id, tokens: plan.includedTokens!, operation: 'included_tokens', metadata: { plan: plan.slug, periodStart: now.toISOString() } },
      transaction,
    );
  return subscription;
}
