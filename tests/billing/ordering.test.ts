// Out-of-order and concurrent delivery: the same Stripe history delivered forward, reversed, shuffled, all at
// once, and with every event duplicated ends in the same subscription, tenant and ledger state; an older
// event never overwrites newer state; an ended subscription never comes back.
import { describe, expect, it } from 'vitest';
import { signupTeam } from '../support/harness.js';
import {
  addDays,
  balanceOf,
  checkoutSessionObject,
  deliver,
  event,
  invoiceObject,
  ledgerOf,
  linkCustomer,
  PRICES,
  rid,
  subscriptionObject,
  subscriptionOf,
  tenantOf,
  useBillingApp,
  type StripeEvent,
} from './support.js';
import { mulberry32 } from '../support/random.js';

useBillingApp();

/** One subscription's history, as Stripe would send it (event times in seconds, some in the same second). */
function history(customer: string, tenantId: string, opts: { deleted: boolean; t0: number }): StripeEvent[] {
  const sub = rid('sub');
  const t0 = opts.t0;
  const p1 = t0;
  const p2 = t0 + 30 * 86_400;
  const p3 = p2 + 30 * 86_400;
  const s = (o: Partial<Parameters<typeof subscriptionObject>[0]>) =>
    subscriptionObject({ id: sub, customer, status: 'active', price: PRICES.standardMonthly, periodStart: p1, periodEnd: p2, created: p1, ...o });
  const inv = (o: Partial<Parameters<typeof invoiceObject>[0]>) => invoiceObject({ customer, subscription: sub, price: PRICES.standardMonthly, periodStart: p2, periodEnd: p3, ...o });
  const events = [
    event('checkout.session.completed', checkoutSessionObject({ mode: 'subscription', customer, tenantId, subscription: sub }), { created: t0 }),
    event('customer.subscription.created', s({ status: 'incomplete' }), { created: t0 }),
    event('customer.subscription.updated', s({}), { created: t0 + 1 }),
    event('invoice.paid', inv({ periodStart: p1, periodEnd: p2, billingReason: 'subscription_create' }), { created: t0 + 1 }),
    event('customer.subscription.updated', s({ periodStart: p2, periodEnd: p3 }), { created: t0 + 100 }),
    event('invoice.payment_failed', inv({ nextPaymentAttempt: p2 + 3 * 86_400 }), { created: t0 + 101 }),
    event('customer.subscription.updated', s({ status: 'past_due', periodStart: p2, periodEnd: p3 }), { created: t0 + 101 }),
    event('invoice.paid', inv({}), { created: t0 + 200 }),
    event('customer.subscription.updated', s({ periodStart: p2, periodEnd: p3 }), { created: t0 + 200 }),
    event('customer.subscription.updated', s({ periodStart: p2, periodEnd: p3, cancelAtPeriodEnd: true, canceledAt: t0 + 300 }), { created: t0 + 300 }),
  ];
  if (opts.deleted)
    events.push(event('customer.subscription.deleted', s({ status: 'canceled', periodStart: p2, periodEnd: p3, cancelAtPeriodEnd: true, canceledAt: t0 + 300, endedAt: t0 + 400 }), { created: t0 + 400 }));
  return events;
}

async function finalState(tenantId: string, startBalance: number) {
  const s = await subscriptionOf(tenantId);
  const ledger = await ledgerOf(tenantId);
  return {
    plan: s.plan,
    status: s.status,
    interval: s.interval,
    linked: s.stripe_subscription_id !== null,
    periodStart: +s.current_period_start,
    periodEnd: +s.current_period_end,
    cancelledAt: s.cancelled_at ? +s.cancelled_at : null,
    documents: s.documents_used_this_period,
    tenant: await tenantOf(tenantId),
    balanceDelta: (await balanceOf(tenantId)).balance - startBalance,
    grants: ledger.filter((r) => r.operation === 'included_tokens').length,
  };
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const rnd = mulberry32(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Run the history for a fresh team, delivered by `order`. */
/** Every run replays the same times (a subscription starting just after sign-up). */
const T0 = Math.floor(Date.now() / 1000) + 5;

async function run(deleted: boolean, order: (events: StripeEvent[]) => Promise<void>) {
  const team = await signupTeam();
  const customer = await linkCustomer(team.tenantId);
  const start = (await balanceOf(team.tenantId)).balance;
  await order(history(customer, team.tenantId, { deleted, t0: T0 }));
  return finalState(team.tenantId, start);
}

const inSequence = async (events: StripeEvent[]) => {
  for (const e of events) {
    const res = await deliver(e);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
};

describe.each([false, true])('the same history in any order (ends deleted: %s)', (deleted) => {
  it('ends in the same state forward, reversed, shuffled, all at once and duplicated', async () => {
    const forward = await run(deleted, inSequence);
    if (deleted) {
      expect(forward).toMatchObject({ plan: 'free', status: 'active', linked: false, balanceDelta: 500_000 * 2 + 50_000, grants: 4 });
      expect(forward.tenant).toMatchObject({ tier: 'free', max_users: 5 });
    } else {
      expect(forward).toMatchObject({ plan: 'standard', status: 'active', interval: 'monthly', linked: true, documents: 0, balanceDelta: 1_000_000, grants: 3 });
      expect(forward.cancelledAt).not.toBeNull();
      expect(forward.tenant).toMatchObject({ tier: 'standard', status: 'active', max_users: 10, max_storage_gb: 10 });
    }

    expect(await run(deleted, (events) => inSequence([...events].reverse()))).toEqual(forward);
    for (const seed of [1, 2, 3, 4]) expect(await run(deleted, (events) => inSequence(shuffled(events, seed)))).toEqual(forward);

    const allAtOnce = await run(deleted, async (events) => {
      const results = await Promise.all(events.map((e) => deliver(e)));
      expect(results.every((r) => r.status === 200)).toBe(true);
    });
    expect(allAtOnce).toEqual(forward);

    const duplicated = await run(deleted, async (events) => {
      const copies = shuffled(events.flatMap((e) => [e, e, e]), 7);
      const results = await Promise.all(copies.map((e) => deliver(e)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.filter((r) => !r.body.duplicate)).toHaveLength(events.length);
    });
    expect(duplicated).toEqual(forward);
  });
});

describe('older events never win', () => {
  it('an upgrade delivered before the older creation stays; an ended subscription stays ended', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const sub = rid('sub');
    const start = Math.floor(Date.now() / 1000) - 100;
    const s = (o: Partial<Parameters<typeof subscriptionObject>[0]>) =>
      subscriptionObject({ id: sub, customer, status: 'active', price: PRICES.standardMonthly, periodStart: start, periodEnd: start + 30 * 86_400, created: start, ...o });

    expect((await deliver(event('customer.subscription.updated', s({ price: PRICES.professionalMonthly }), { created: start + 50 }))).body.outcome).toBe('applied');
    expect((await deliver(event('customer.subscription.created', s({}), { created: start }))).body.outcome).toBe('stale');
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'professional', status: 'active' });

    await deliver(event('customer.subscription.deleted', s({ status: 'canceled', price: PRICES.professionalMonthly, endedAt: start + 60 }), { created: start + 60 }));
    expect((await subscriptionOf(team.tenantId)).plan).toBe('free');
    // A later-stamped event about the ended subscription cannot revive it.
    await deliver(event('customer.subscription.updated', s({ price: PRICES.enterpriseMonthly }), { created: start + 70 }));
    await deliver(event('invoice.paid', invoiceObject({ customer, subscription: sub, price: PRICES.enterpriseMonthly, periodStart: start + 30 * 86_400, periodEnd: start + 60 * 86_400 }), { created: start + 80 }));
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'free', status: 'active', stripe_subscription_id: null });
    expect((await tenantOf(team.tenantId)).tier).toBe('free');
  });

  it('a past_due older than the recovery does not bring past_due back', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const sub = rid('sub');
    const p = new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * 86_400_000);
    const s = (o: Partial<Parameters<typeof subscriptionObject>[0]>) =>
      subscriptionObject({ id: sub, customer, status: 'active', price: PRICES.standardMonthly, periodStart: p, periodEnd: addDays(p, 30), created: p, ...o });
    const t = Math.floor(p.getTime() / 1000);
    await deliver(event('customer.subscription.created', s({}), { created: t }));
    await deliver(event('invoice.paid', invoiceObject({ customer, subscription: sub, periodStart: p, periodEnd: addDays(p, 30), billingReason: 'subscription_cycle' }), { created: t + 20 }));
    await deliver(event('customer.subscription.updated', s({ status: 'past_due' }), { created: t + 10 }));
    await deliver(event('invoice.payment_failed', invoiceObject({ customer, subscription: sub, periodStart: p, periodEnd: addDays(p, 30), nextPaymentAttempt: null }), { created: t + 5 }));
    expect((await subscriptionOf(team.tenantId)).status).toBe('active');
  });
});
