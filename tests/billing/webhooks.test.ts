// The Stripe webhook: signatures (missing, wrong, tampered, stale), malformed payloads, unknown customers,
// token purchases credited exactly once (replays, a second event for the same session, ten concurrent
// copies), and a subscription's whole life — created, renewed, payment failed, unpaid, paid, deleted — with
// the tenant's tier, limits and period counters following it.
import { describe, expect, it } from 'vitest';
import { consumeDocumentQuota } from '../../src/billing/quotas.js';
import { db } from '../../src/db/index.js';
import { signupTeam } from '../support/harness.js';
import {
  addDays,
  balanceOf,
  billingOff,
  billingOn,
  checkoutSessionObject,
  deliver,
  event,
  invoiceObject,
  ledgerOf,
  linkCustomer,
  one,
  PRICES,
  rid,
  rows,
  sign,
  subscriptionObject,
  subscriptionOf,
  tenantOf,
  useBillingApp,
} from './support.js';

const t = useBillingApp();

const storedEvent = (id: string) => one<{ n: number }>(`SELECT count(*)::int AS n FROM billing_stripe_event WHERE id = :id`, { id });

const tokenCheckout = (customer: string, tenantId: string, o: { id?: string; paymentStatus?: string; tokens?: number } = {}) =>
  checkoutSessionObject({
    id: o.id,
    mode: 'payment',
    customer,
    tenantId,
    paymentStatus: o.paymentStatus,
    amountTotal: 4000,
    metadata: { tenantId, kind: 'token_package', tokens: String(o.tokens ?? 1_000_000), packageId: '00000000-0000-4000-8000-000000000000' },
  });

describe('webhook signature and payload checks', () => {
  it('refuses a missing, wrong, tampered or stale signature with 400 and a code, and stores nothing', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const ev = event('checkout.session.completed', tokenCheckout(customer, team.tenantId));
    const payload = JSON.stringify(ev);
    const before = await balanceOf(team.tenantId);

    const missing = await deliver(payload, { signature: null });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('missing_signature');

    const wrongSecret = await deliver(payload, { secret: 'whsec_not_the_right_one' });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body.error.code).toBe('invalid_signature');

    const tampered = JSON.stringify({ ...ev, data: { object: { ...ev.data.object, metadata: { ...(ev.data.object.metadata as object), tokens: '999999999' } } } });
    const forged = await deliver(tampered, { signature: sign(payload) });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_signature');

    const stale = await deliver(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(400);
    expect(stale.body.error.code).toBe('stale_signature');

    const garbage = await deliver(payload, { signature: 'this is not a stripe header' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('invalid_signature');

    expect((await storedEvent(ev.id)).n).toBe(0);
    expect(await balanceOf(team.tenantId)).toEqual(before);

    // The same payload, properly signed and on time, goes through.
    const ok = await deliver(payload);
    expect(ok.status).toBe(200);
    expect(ok.body.outcome).toBe('credited');
  });

  it('answers 400 invalid_payload for signed bodies that are not JSON, not events, or malformed objects', async () => {
    const notJson = await deliver('{"id": "evt_1", oops');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_payload');

    const notEvent = await deliver(JSON.stringify({ hello: 'world' }));
    expect(notEvent.status).toBe(400);
    expect(notEvent.body.error.code).toBe('invalid_payload');

    const badSub = event('customer.subscription.updated', { id: 'sub_x', customer: 'cus_x', status: 'exploded', items: { data: [] } });
    const res = await deliver(badSub);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
    expect(res.body.error.message).toMatch(/status/);
    expect((await storedEvent(badSub.id)).n).toBe(0);

    const badInvoice = event('invoice.paid', { id: 'in_x', lines: { data: [] } });
    expect((await deliver(badInvoice)).body.error.code).toBe('invalid_payload');
  });

  it('answers 503 billing_not_configured without Stripe keys', async () => {
    billingOff();
    try {
      const res = await deliver(event('invoice.paid', {}));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('billing_not_configured');
    } finally {
      billingOn(t.fake);
    }
  });

  it('acknowledges event types it does not handle, and events for unknown customers (200, logged, no change)', async () => {
    const other = await deliver(event('customer.created', { id: 'cus_new' }));
    expect(other.status).toBe(200);
    expect(other.body.outcome).toBe('unhandled');

    const team = await signupTeam();
    const before = await subscriptionOf(team.tenantId);
    const stranger = rid('cus');
    const sub = event(
      'customer.subscription.created',
      subscriptionObject({ id: rid('sub'), customer: stranger, status: 'active', price: PRICES.standardMonthly, periodStart: new Date(), periodEnd: addDays(new Date(), 30), metadata: { tenantId: team.tenantId } }),
    );
    const res = await deliver(sub);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('unknown_customer');
    const tokens = await deliver(event('checkout.session.completed', tokenCheckout(stranger, 'not-a-tenant')));
    expect(tokens.body.outcome).toBe('unknown_customer');
    // Metadata naming a tenant does not let a foreign customer's subscription change it.
    expect(await subscriptionOf(team.tenantId)).toEqual(before);
    const replay = await deliver(sub);
    expect(replay.status).toBe(200);
    expect(replay.body.duplicate).toBe(true);
  });
});

describe('token package purchases', () => {
  it('credits a paid checkout once: replays and a second event for the same session change nothing', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const before = await balanceOf(team.tenantId);
    const session = tokenCheckout(customer, team.tenantId);
    const completed = event('checkout.session.completed', session);

    const first = await deliver(completed);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: true, duplicate: false, outcome: 'credited' });
    for (let i = 0; i < 3; i++) {
      const again = await deliver(completed);
      expect(again.status).toBe(200);
      expect(again.body.duplicate).toBe(true);
    }
    const async = await deliver(event('checkout.session.async_payment_succeeded', session));
    expect(async.body.outcome).toBe('already_credited');

    const after = await balanceOf(team.tenantId);
    expect(after.balance).toBe(before.balance + 1_000_000);
    expect(after.lifetime_purchased).toBe(before.lifetime_purchased + 1_000_000);
    const purchases = (await ledgerOf(team.tenantId)).filter((r) => r.operation === 'token_purchase');
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({ amount: 1_000_000, balance_after: after.balance });
    expect(purchases[0]!.metadata.sessionId).toBe(session.id);
    const audit = await rows(`SELECT details FROM audit_log WHERE tenant_id = :id AND action = 'billing.tokens_purchased'`, { id: team.tenantId });
    expect(audit).toHaveLength(1);
  });

  it('applies ten concurrent copies of one event exactly once', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const before = await balanceOf(team.tenantId);
    const completed = event('checkout.session.completed', tokenCheckout(customer, team.tenantId, { tokens: 100_000 }));
    const payload = JSON.stringify(completed);
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(payload)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(results.filter((r) => r.body.duplicate === true)).toHaveLength(9);
    expect((await balanceOf(team.tenantId)).balance).toBe(before.balance + 100_000);
    expect((await ledgerOf(team.tenantId)).filter((r) => r.operation === 'token_purchase')).toHaveLength(1);
  });

  it('waits for an asynchronous payment before crediting', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const before = await balanceOf(team.tenantId);
    const pending = tokenCheckout(customer, team.tenantId, { paymentStatus: 'unpaid' });
    expect((await deliver(event('checkout.session.completed', pending))).body.outcome).toBe('awaiting_payment');
    expect((await balanceOf(team.tenantId)).balance).toBe(before.balance);
    const paid = { ...pending, payment_status: 'paid' };
    expect((await deliver(event('checkout.session.async_payment_succeeded', paid))).body.outcome).toBe('credited');
    expect((await balanceOf(team.tenantId)).balance).toBe(before.balance + 1_000_000);
  });

  it('links the customer of a first checkout to the tenant that started it', async () => {
    const team = await signupTeam();
    const customer = rid('cus');
    const res = await deliver(event('checkout.session.completed', tokenCheckout(customer, team.tenantId, { tokens: 100_000 })));
    expect(res.body.outcome).toBe('credited');
    expect((await subscriptionOf(team.tenantId)).stripe_customer_id).toBe(customer);
    // That customer now belongs to this tenant: another tenant cannot claim it.
    const other = await signupTeam();
    const claim = await deliver(event('checkout.session.completed', tokenCheckout(customer, other.tenantId, { tokens: 100_000 })));
    expect(claim.body.outcome).toBe('credited');
    expect((await subscriptionOf(other.tenantId)).stripe_customer_id).toBeNull();
    expect((await ledgerOf(other.tenantId)).filter((r) => r.operation === 'token_purchase')).toHaveLength(0);
    expect((await ledgerOf(team.tenantId)).filter((r) => r.operation === 'token_purchase')).toHaveLength(2);
  });
});

describe('a subscription’s life', () => {
  it('follows created → renewed → payment failed → unpaid → paid → deleted, with tier, limits and counters', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const subId = rid('sub');
    const p1 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const p2 = addDays(p1, 30);
    const p3 = addDays(p2, 30);
    let clock = Math.floor(p1.getTime() / 1000);
    const at = () => ({ created: ++clock });
    const sub = (o: Partial<Parameters<typeof subscriptionObject>[0]> = {}) =>
      subscriptionObject({ id: subId, customer, status: 'active', price: PRICES.standardMonthly, periodStart: p1, periodEnd: p2, created: p1, ...o });
    const startBalance = (await balanceOf(team.tenantId)).balance;

    // Subscribed: standard plan, its limits, its included tokens once (the first invoice does not add more).
    await deliver(event('checkout.session.completed', checkoutSessionObject({ mode: 'subscription', customer, tenantId: team.tenantId, subscription: subId }), at()));
    expect((await subscriptionOf(team.tenantId)).plan).toBe('free');
    expect((await deliver(event('customer.subscription.created', sub(), at()))).body.outcome).toBe('applied');
    await deliver(event('invoice.paid', invoiceObject({ customer, subscription: subId, price: PRICES.standardMonthly, periodStart: p1, periodEnd: p2, billingReason: 'subscription_create' }), at()));
    let s = await subscriptionOf(team.tenantId);
    expect(s).toMatchObject({ plan: 'standard', status: 'active', interval: 'monthly', stripe_subscription_id: subId, stripe_customer_id: customer });
    expect(+s.current_period_start).toBe(+p1);
    expect(await tenantOf(team.tenantId)).toMatchObject({ tier: 'standard', status: 'active', max_users: 10, max_storage_gb: 10 });
    expect((await balanceOf(team.tenantId)).balance).toBe(startBalance + 500_000);

    // Some documents this period; the renewal resets the count and credits the new period once.
    await db().query(`UPDATE billing_subscription SET documents_used_this_period = 7 WHERE tenant_id = :id`, { replacements: { id: team.tenantId } });
    await deliver(event('customer.subscription.updated', sub({ periodStart: p2, periodEnd: p3 }), at()));
    await deliver(event('invoice.paid', invoiceObject({ customer, subscription: subId, price: PRICES.standardMonthly, periodStart: p2, periodEnd: p3 }), at()));
    s = await subscriptionOf(team.tenantId);
    expect(s.documents_used_this_period).toBe(0);
    expect(+s.current_period_start).toBe(+p2);
    expect((await balanceOf(team.tenantId)).balance).toBe(startBalance + 1_000_000);

    // A failed payment with retries left: past_due, a grace period (documents still work).
    await deliver(event('invoice.payment_failed', invoiceObject({ customer, subscription: subId, periodStart: p2, periodEnd: p3, nextPaymentAttempt: addDays(p2, 3) }), at()));
    expect((await subscriptionOf(team.tenantId)).status).toBe('past_due');
    await db().transaction((tx) => consumeDocumentQuota(team.tenantId, tx));

    // No retries left: unpaid, and document generation is blocked.
    await deliver(event('invoice.payment_failed', invoiceObject({ customer, subscription: subId, periodStart: p2, periodEnd: p3, nextPaymentAttempt: null, attemptCount: 4 }), at()));
    expect((await subscriptionOf(team.tenantId)).status).toBe('unpaid');
    await expect(db().transaction((tx) => consumeDocumentQuota(team.tenantId, tx))).rejects.toMatchObject({ code: 'subscription_inactive', status: 402 });
    expect(await rows(`SELECT 1 FROM audit_log WHERE tenant_id = :id AND action = 'billing.payment_failed'`, { id: team.tenantId })).toHaveLength(2);

    // Paid at last: active again, and the period's tokens are not credited a second time.
    await deliver(event('invoice.paid', invoiceObject({ customer, subscription: subId, price: PRICES.standardMonthly, periodStart: p2, periodEnd: p3 }), at()));
    expect((await subscriptionOf(team.tenantId)).status).toBe('active');
    expect((await balanceOf(team.tenantId)).balance).toBe(startBalance + 1_000_000);
    await db().transaction((tx) => consumeDocumentQuota(team.tenantId, tx));

    // Cancelled at Stripe: back to the free plan and its limits, the customer kept for a later checkout.
    const ended = addDays(p2, 10);
    await deliver(event('customer.subscription.deleted', sub({ periodStart: p2, periodEnd: p3, status: 'canceled', canceledAt: ended, endedAt: ended }), at()));
    s = await subscriptionOf(team.tenantId);
    expect(s).toMatchObject({ plan: 'free', status: 'active', stripe_subscription_id: null, stripe_customer_id: customer, documents_used_this_period: 0 });
    expect(+s.cancelled_at!).toBe(+ended);
    expect(+s.current_period_start).toBe(+ended);
    expect(await tenantOf(team.tenantId)).toMatchObject({ tier: 'free', max_users: 5, max_storage_gb: 1 });
    expect((await balanceOf(team.tenantId)).balance).toBe(startBalance + 1_000_000 + 50_000);

    // The ledger is a chain: each balance_after is the previous one plus the amount.
    const ledger = await ledgerOf(team.tenantId);
    for (let i = 1; i < ledger.length; i++) expect(ledger[i]!.balance_after).toBe(ledger[i - 1]!.balance_after + ledger[i]!.amount);
    const changes = await rows(`SELECT details FROM audit_log WHERE tenant_id = :id AND action = 'billing.subscription_changed' ORDER BY created_at`, { id: team.tenantId });
    expect(changes.length).toBeGreaterThanOrEqual(5);
  });

  it('switches to the newer subscription when a plan change goes through Checkout, and cancels the old one at Stripe', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const p1 = new Date(Math.floor(Date.now() / 1000) * 1000 - 5 * 86_400_000);
    const oldSub = rid('sub');
    const newSub = rid('sub');
    let clock = Math.floor(p1.getTime() / 1000);
    await deliver(event('customer.subscription.created', subscriptionObject({ id: oldSub, customer, status: 'active', price: PRICES.standardMonthly, periodStart: p1, periodEnd: addDays(p1, 30), created: p1 }), { created: ++clock }));
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    await deliver(event('customer.subscription.created', subscriptionObject({ id: newSub, customer, status: 'active', price: PRICES.professionalMonthly, periodStart: now, periodEnd: addDays(now, 30), created: now }), { created: Math.floor(now.getTime() / 1000) }));
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'professional', stripe_subscription_id: newSub });
    expect((await tenantOf(team.tenantId)).max_users).toBe(50);
    await expect.poll(() => t.fake.canceledSubscriptions.includes(oldSub)).toBe(true);
    // The old subscription's deletion does not touch the new one.
    await deliver(event('customer.subscription.deleted', subscriptionObject({ id: oldSub, customer, status: 'canceled', price: PRICES.standardMonthly, periodStart: p1, periodEnd: addDays(p1, 30), created: p1, endedAt: now }), { created: Math.floor(now.getTime() / 1000) + 1 }));
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'professional', status: 'active', stripe_subscription_id: newSub });
  });

  it('maps trialing and yearly prices, and keeps the plan when a price is unknown', async () => {
    const team = await signupTeam();
    const customer = await linkCustomer(team.tenantId);
    const subId = rid('sub');
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    await deliver(event('customer.subscription.created', subscriptionObject({ id: subId, customer, status: 'trialing', price: PRICES.standardYearly, interval: 'year', periodStart: start, periodEnd: addDays(start, 365), trialEnd: addDays(start, 14) })));
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'standard', status: 'trialing', interval: 'yearly' });
    expect((await tenantOf(team.tenantId)).status).toBe('trial');
    await deliver(event('customer.subscription.updated', subscriptionObject({ id: subId, customer, status: 'active', price: 'price_nobody_configured', interval: 'year', periodStart: start, periodEnd: addDays(start, 365) }), { created: Math.floor(Date.now() / 1000) + 5 }));
    expect(await subscriptionOf(team.tenantId)).toMatchObject({ plan: 'standard', status: 'active' });
    expect((await tenantOf(team.tenantId)).status).toBe('active');
  });
});
