// Plan quotas: documents per period, storage and users for each of the four plans, tokens, what unpaid
// blocks, and the free plan's period roll-over (counters reset, included tokens credited once).
import { describe, expect, it } from 'vitest';
import { assertHasTokens, debitTokens } from '../../src/billing/ledger.js';
import { changeStorageUsage, consumeDocumentQuota } from '../../src/billing/quotas.js';
import { rollOverPeriods } from '../../src/billing/subscriptions.js';
import { db } from '../../src/db/index.js';
import { addMonths } from '../../src/util/dates.js';
import { call, signupTeam, uniqueEmail } from '../support/harness.js';
import { addDays, balanceOf, deliver, event, ledgerOf, linkCustomer, one, PRICES, rid, subscriptionObject, subscriptionOf, useBillingApp } from './support.js';

useBillingApp();

const GiB = 1024 ** 3;
const consume = (tenantId: string) => db().transaction((tx) => consumeDocumentQuota(tenantId, tx));
const store = (tenantId: string, bytes: number) => db().transaction((tx) => changeStorageUsage(tenantId, bytes, tx));

async function onPlan(tenantId: string, slug: string, set: Record<string, unknown> = {}) {
  const sets = Object.keys(set).map((k) => `, ${k} = :${k}`).join('');
  await db().query(`UPDATE billing_subscription SET plan_id = (SELECT id FROM billing_plan WHERE slug = :slug), status = 'active'${sets} WHERE tenant_id = :tenantId`, {
    replacements: { slug, tenantId, ...set },
  });
  return one<{ max_documents_per_month: number; max_storage_gb: number }>(`SELECT max_documents_per_month, max_storage_gb FROM billing_plan WHERE slug = :slug`, { slug });
}

describe.each(['free', 'standard', 'professional', 'enterprise'])('quotas on the %s plan', (slug) => {
  it('allows documents up to the plan’s monthly limit, then 402 document_quota_exceeded', async () => {
    const team = await signupTeam();
    const plan = await onPlan(team.tenantId, slug, { documents_used_this_period: 0 });
    await db().query(`UPDATE billing_subscription SET documents_used_this_period = :n WHERE tenant_id = :id`, { replacements: { n: plan.max_documents_per_month - 2, id: team.tenantId } });
    // Ten at once for the last two: exactly two get through.
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => consume(team.tenantId)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[])
      expect(r.reason).toMatchObject({ code: 'document_quota_exceeded', status: 402 });
    expect((await subscriptionOf(team.tenantId)).documents_used_this_period).toBe(plan.max_documents_per_month);
  });

  it('allows storage up to the plan’s GB, then 402 storage_quota_exceeded; releasing frees it', async () => {
    const team = await signupTeam();
    const plan = await onPlan(team.tenantId, slug);
    await store(team.tenantId, plan.max_storage_gb * GiB - 4096);
    await expect(store(team.tenantId, 8192)).rejects.toMatchObject({ code: 'storage_quota_exceeded', status: 402 });
    await store(team.tenantId, 2048);
    await expect(store(team.tenantId, 4096)).rejects.toMatchObject({ code: 'storage_quota_exceeded' });
    await store(team.tenantId, -GiB);
    await store(team.tenantId, 1024);
    await store(team.tenantId, -100 * plan.max_storage_gb * GiB);
    expect((await subscriptionOf(team.tenantId)).storage_used_gb).toBe(0);
  });
});

describe('users per plan', () => {
  it('follows the plan the subscription moves to: 5 on free, 10 on standard', async () => {
    const team = await signupTeam();
    const add = () => call('POST', '/api/users', { token: team.token, json: { email: uniqueEmail('seat'), role: 'member' } });
    for (let i = 1; i < 5; i++) expect((await add()).status).toBe(201);
    expect((await add()).body.error.code).toBe('tenant_user_limit');

    const customer = await linkCustomer(team.tenantId);
    const now = new Date();
    await deliver(event('customer.subscription.created', subscriptionObject({ id: rid('sub'), customer, status: 'active', price: PRICES.standardMonthly, periodStart: now, periodEnd: addDays(now, 30) })));
    for (let i = 5; i < 10; i++) expect((await add()).status).toBe(201);
    const eleventh = await add();
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.error.code).toBe('tenant_user_limit');
    expect(eleventh.body.error.message).toMatch(/10 active users/);
  });
});

describe('tokens and status', () => {
  it('stops model calls at zero tokens with 402 insufficient_tokens', async () => {
    const team = await signupTeam();
    await assertHasTokens(team.tenantId);
    await debitTokens({ tenantId: team.tenantId, tokens: 50_000, operation: 'chat_turn' });
    await expect(assertHasTokens(team.tenantId)).rejects.toMatchObject({ code: 'insufficient_tokens', status: 402 });
  });

  it('unpaid and canceled block documents and uploads (releasing storage still works); past_due does not', async () => {
    const team = await signupTeam();
    await onPlan(team.tenantId, 'standard');
    for (const status of ['unpaid', 'canceled']) {
      await db().query(`UPDATE billing_subscription SET status = :status WHERE tenant_id = :id`, { replacements: { status, id: team.tenantId } });
      await expect(consume(team.tenantId)).rejects.toMatchObject({ code: 'subscription_inactive', status: 402 });
      await expect(store(team.tenantId, 1024)).rejects.toMatchObject({ code: 'subscription_inactive' });
      await store(team.tenantId, -1024);
      const overview = await call('GET', '/api/billing/subscription', { token: team.token });
      expect(overview.body.subscription.blocked).toEqual(['document_generation', 'uploads']);
    }
    await db().query(`UPDATE billing_subscription SET status = 'past_due' WHERE tenant_id = :id`, { replacements: { id: team.tenantId } });
    await consume(team.tenantId);
    await store(team.tenantId, 1024);
  });
});

describe('free period roll-over', () => {
  it('resets the period’s documents and credits its included tokens once, lazily at the next quota check', async () => {
    const team = await signupTeam();
    const start = addDays(new Date(), -40);
    await db().query(
      `UPDATE billing_subscription SET current_period_start = :start, current_period_end = :end, trial_end = :trialEnd, documents_used_this_period = 20, storage_used_gb = 0.5 WHERE tenant_id = :id`,
      { replacements: { start, end: addMonths(start, 1), trialEnd: addDays(start, 14), id: team.tenantId } },
    );
    const before = await balanceOf(team.tenantId);
    await consume(team.tenantId); // 20 of 20 used last period: allowed, because a new period began
    const s = await subscriptionOf(team.tenantId);
    expect(s).toMatchObject({ status: 'active', documents_used_this_period: 1, storage_used_gb: 0.5 });
    expect(+s.current_period_start).toBe(+addMonths(start, 1));
    expect(+s.current_period_end).toBe(+addMonths(start, 2));
    expect((await balanceOf(team.tenantId)).balance).toBe(before.balance + 50_000);
    expect((await one(`SELECT status FROM core_tenant WHERE id = :id`, { id: team.tenantId })).status).toBe('active');

    // The maintenance pass and further checks find nothing more to do for this period.
    await rollOverPeriods();
    await consume(team.tenantId);
    expect((await balanceOf(team.tenantId)).balance).toBe(before.balance + 50_000);
    expect((await ledgerOf(team.tenantId)).filter((r) => r.operation === 'included_tokens')).toHaveLength(2);
  });

  it('rollOverPeriods() moves long-expired free periods to the current one, crediting only that one', async () => {
    const team = await signupTeam();
    const start = addDays(new Date(), -100);
    await db().query(`UPDATE billing_subscription SET current_period_start = :start, current_period_end = :end, documents_used_this_period = 3 WHERE tenant_id = :id`, {
      replacements: { start, end: addMonths(start, 1), id: team.tenantId },
    });
    expect(await rollOverPeriods()).toBeGreaterThanOrEqual(1);
    const s = await subscriptionOf(team.tenantId);
    expect(+s.current_period_start).toBeLessThanOrEqual(Date.now());
    expect(+s.current_period_end).toBeGreaterThan(Date.now());
    expect(s.documents_used_this_period).toBe(0);
    expect((await ledgerOf(team.tenantId)).filter((r) => r.operation === 'included_tokens')).toHaveLength(2);
    await Promise.all([rollOverPeriods(), rollOverPeriods(), consume(team.tenantId)]);
    expect((await ledgerOf(team.tenantId)).filter((r) => r.operation === 'included_tokens')).toHaveLength(2);
  });

  it('leaves Stripe-managed periods to Stripe', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const p = addDays(new Date(), -45);
    await deliver(event('customer.subscription.created', subscriptionObject({ id: rid('sub'), customer, status: 'active', price: PRICES.standardMonthly, periodStart: p, periodEnd: addDays(p, 30) })));
    await db().query(`UPDATE billing_subscription SET documents_used_this_period = 5 WHERE tenant_id = :id`, { replacements: { id: team.tenantId } });
    await rollOverPeriods();
    await consume(team.tenantId);
    const s = await subscriptionOf(team.tenantId);
    expect(+s.current_period_start).toBe(Math.floor(p.getTime() / 1000) * 1000);
    expect(s.documents_used_this_period).toBe(6);
  });
});
