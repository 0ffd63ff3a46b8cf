// Stripe webhooks (POST /api/billing/webhook). The raw body is verified with stripe.webhooks.constructEvent
// (default 300 s tolerance). Each event is applied once: its id goes into billing_stripe_event in the same
// transaction as its effect, so a replay — or ten copies racing — finds the id and changes nothing.
//
// Out-of-order safety: every Stripe subscription's last known state is kept in billing_stripe_subscription
// with the (created, rank) of the event that set it. An older event only fills fields still unknown; an
// ended subscription never comes back to life. The tenant's own billing_subscription is then re-derived
// from those rows (src/billing/subscriptions.ts), so whatever order events arrive in, the result is the
// state of the newest information. Events for customers we do not know are answered 200 and logged.
import Stripe from 'stripe';
import { QueryTypes, type Transaction } from 'sequelize';
import { z } from 'zod';
import { recordAudit } from '../analytics/audit.js';
import { config } from '../config.js';
import { db } from '../db/index.js';
import { TokenPackage } from '../db/models/index.js';
import { AppError, badRequest } from '../errors.js';
import { isUuid } from '../ids.js';
import { log } from '../log.js';
import { planForPrice, type Interval } from './catalog.js';
import { grantTokensOnce } from './grants.js';
import { billingNotConfigured, isBillingConfigured, stripe } from './stripe-client.js';
import { grantStripePeriod, lockTenantSubscription, syncTenantSubscription, type StripeSubscriptionRow } from './subscriptions.js';

// ---------------------------------------------------------------------------------------------------------
// Payload shapes (only what we read; both the current API shape and the pre-2025 one are accepted)

const Id = z.string().min(1).max(255);
const Ref = z.union([Id, z.object({ id: Id })]).transform((v) => (typeof v === 'string' ? v : v.id));
const Seconds = z.number().int().nonnegative();
const OptSeconds = Seconds.nullish();
const Metadata = z.record(z.string(), z.string()).nullish();

const Envelope = z.object({
  id: Id,
  type: z.string().min(1).max(100),
  created: Seconds,
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const STRIPE_STATUSES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const;
const ENDED = new Set(['canceled', 'incomplete_expired']);

const SubscriptionObject = z.object({
  id: Id,
  customer: Ref,
  status: z.enum(STRIPE_STATUSES),
  created: OptSeconds,
  trial_end: OptSeconds,
  cancel_at_period_end: z.boolean().nullish(),
  canceled_at: OptSeconds,
  ended_at: OptSeconds,
  current_period_start: OptSeconds,
  current_period_end: OptSeconds,
  metadata: Metadata,
  items: z
    .object({
      data: z.array(
        z.object({
          price: z.object({ id: Id, recurring: z.object({ interval: z.string() }).nullish() }).nullish(),
          current_period_start: OptSeconds,
          current_period_end: OptSeconds,
        }),
      ),
    })
    .nullish(),
});

const CheckoutSessionObject = z.object({
  id: Id,
  mode: z.enum(['payment', 'subscription', 'setup']),
  customer: Ref.nullish(),
  subscription: Ref.nullish(),
  client_reference_id: z.string().max(255).nullish(),
  payment_status: z.string().max(50),
  metadata: Metadata,
  amount_total: z.number().int().nullish(),
  currency: z.string().max(10).nullish(),
});

const InvoiceObject = z.object({
  id: Id,
  customer: Ref,
  subscription: Ref.nullish(),
  parent: z.object({ subscription_details: z.object({ subscription: Ref }).nullish() }).nullish(),
  billing_reason: z.string().max(50).nullish(),
  next_payment_attempt: OptSeconds,
  attempt_count: z.number().int().nullish(),
  lines: z
    .object({
      data: z.array(
        z.object({
          period: z.object({ start: Seconds, end: Seconds }).nullish(),
          price: z.object({ id: Id }).nullish(),
          pricing: z.object({ price_details: z.object({ price: Ref }).nullish() }).nullish(),
        }),
      ),
    })
    .nullish(),
});

// ---------------------------------------------------------------------------------------------------------

interface EventInfo {
  id: string;
  type: string;
  created: number;
}

interface Outcome {
  tenantId?: string;
  outcome: string;
  afterCommit?: () => Promise<void>;
}

type Handler = (object: unknown, ev: EventInfo, t: Transaction) => Promise<Outcome>;

/** For events of one second, a later kind of event wins over an earlier kind. */
const RANK: Record<string, number> = {
  'customer.subscription.created': 0,
  'invoice.paid': 1,
  'invoice.payment_failed': 1,
  'customer.subscription.updated': 2,
  'customer.subscription.paused': 2,
  'customer.subscription.resumed': 2,
  'customer.subscription.deleted': 3,
};

const HANDLERS: Record<string, { schema: z.ZodType; handle: Handler }> = {
  'checkout.session.completed': { schema: CheckoutSessionObject, handle: (o, e, t) => onCheckoutCompleted(o as CheckoutSession, e, t) },
  'checkout.session.async_payment_succeeded': { schema: CheckoutSessionObject, handle: (o, e, t) => onCheckoutCompleted(o as CheckoutSession, e, t) },
  'customer.subscription.created': { schema: SubscriptionObject, handle: (o, e, t) => onSubscription(o as SubscriptionPayload, e, t) },
  'customer.subscription.updated': { schema: SubscriptionObject, handle: (o, e, t) => onSubscription(o as SubscriptionPayload, e, t) },
  'customer.subscription.paused': { schema: SubscriptionObject, handle: (o, e, t) => onSubscription(o as SubscriptionPayload, e, t) },
  'customer.subscription.resumed': { schema: SubscriptionObject, handle: (o, e, t) => onSubscription(o as SubscriptionPayload, e, t) },
  'customer.subscription.deleted': { schema: SubscriptionObject, handle: (o, e, t) => onSubscription(o as SubscriptionPayload, e, t) },
  'invoice.paid': { schema: InvoiceObject, handle: (o, e, t) => onInvoice(o as InvoicePayload, e, t) },
  'invoice.payment_failed': { schema: InvoiceObject, handle: (o, e, t) => onInvoice(o as InvoicePayload, e, t) },
};

type CheckoutSession = z.output<typeof CheckoutSessionObject>;
type SubscriptionPayload = z.output<typeof SubscriptionObject>;
type InvoicePayload = z.output<typeof InvoiceObject>;

export interface WebhookResult {
  received: true;
  eventId: string;
  type: string;
  duplicate: boolean;
  outcome: string;
}

/** Verify, parse and apply one webhook delivery. Throws AppError 400 for anything Stripe did not sign. */
export async function handleStripeWebhook(raw: Buffer, signature: string | undefined): Promise<WebhookResult> {
  if (!isBillingConfigured()) throw billingNotConfigured();
  if (!signature) throw badRequest('missing_signature', 'The Stripe-Signature header is missing.');
  let parsed: unknown;
  try {
    parsed = stripe().webhooks.constructEvent(raw, signature, config().STRIPE_WEBHOOK_SECRET!);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
      const stale = /tolerance/i.test(err.message);
      throw new AppError(
        stale ? 'stale_signature' : 'invalid_signature',
        stale ? 'The webhook timestamp is outside the 300-second tolerance (a replayed or delayed request).' : 'The webhook signature does not match the payload.',
        400,
      );
    }
    throw badRequest('invalid_payload', 'The webhook body is not a Stripe event (not valid JSON).');
  }
  const envelope = Envelope.safeParse(parsed);
  if (!envelope.success) throw badRequest('invalid_payload', 'The webhook body is not a Stripe event (id, type, created and data.object are required).');
  const ev: EventInfo = { id: envelope.data.id, type: envelope.data.type, created: envelope.data.created };
  const handler = HANDLERS[ev.type];
  if (!handler) return { received: true, eventId: ev.id, type: ev.type, duplicate: false, outcome: 'unhandled' };
  const object = handler.schema.safeParse(envelope.data.data.object);
  if (!object.success) {
    const issue = object.error.issues[0];
    throw badRequest('invalid_payload', `The ${ev.type} event is malformed: ${issue ? `${issue.path.join('.') || 'object'}: ${issue.message}` : 'invalid object'}.`);
  }

  const result = await db().transaction(async (t) => {
    const fresh = await db().query<{ id: string }>(
      `INSERT INTO billing_stripe_event (id, type, event_created, outcome) VALUES (:id, :type, :created, 'processing')
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      { replacements: { id: ev.id, type: ev.type, created: new Date(ev.created * 1000) }, transaction: t, type: QueryTypes.SELECT },
    );
    if (!fresh.length) return { duplicate: true, outcome: 'duplicate' } as Outcome & { duplicate: boolean };
    const out = await handler.handle(object.data, ev, t);
    await db().query(`UPDATE billing_stripe_event SET tenant_id = :tenantId, outcome = :outcome WHERE id = :id`, {
      replacements: { tenantId: out.tenantId ?? null, outcome: out.outcome, id: ev.id },
      transaction: t,
    });
    if (out.afterCommit) t.afterCommit(() => void out.afterCommit!().catch((err) => log.warn({ err, eventId: ev.id }, 'after-commit Stripe call failed')));
    return { ...out, duplicate: false };
  });
  log.info({ eventId: ev.id, type: ev.type, tenantId: result.tenantId, outcome: result.outcome, duplicate: result.duplicate }, 'stripe webhook');
  return { received: true, eventId: ev.id, type: ev.type, duplicate: result.duplicate, outcome: result.outcome };
}

// ---------------------------------------------------------------------------------------------------------
// Tenants

async function tenantByCustomer(customerId: string | null | undefined, t: Transaction): Promise<string | undefined> {
  if (!customerId) return undefined;
  const rows = await db().query<{ tenant_id: string }>(`SELECT tenant_id FROM billing_subscription WHERE stripe_customer_id = :customerId`, {
    replacements: { customerId },
    transaction: t,
    type: QueryTypes.SELECT,
  });
  return rows[0]?.tenant_id;
}

async function tenantByStripeSubscription(subscriptionId: string, t: Transaction): Promise<string | undefined> {
  const rows = await db().query<{ tenant_id: string }>(`SELECT tenant_id FROM billing_stripe_subscription WHERE id = :subscriptionId`, {
    replacements: { subscriptionId },
    transaction: t,
    type: QueryTypes.SELECT,
  });
  return rows[0]?.tenant_id;
}


/** A user id from our own Checkout metadata, if it still names a user of the tenant. */
async function tenantUser(tenantId: string, userId: string | undefined, t: Transaction): Promise<string | null> {
  if (!userId || !isUuid(userId)) return null;
  const rows = await db().query(`SELECT id FROM core_user WHERE id = :userId AND tenant_id = :tenantId`, {
    replacements: { userId, tenantId },
    transaction: t,
    type: QueryTypes.SELECT,
  });
  return rows.length ? userId : null;
}

function unknownCustomer(ev: EventInfo, customer: string | null | undefined): Outcome {
  log.warn({ eventId: ev.id, type: ev.type, customer }, 'stripe webhook for a customer no tenant has: ignored');
  return { outcome: 'unknown_customer' };
}

// ---------------------------------------------------------------------------------------------------------
// checkout.session.completed / async_payment_succeeded

async function onCheckoutCompleted(s: CheckoutSession, ev: EventInfo, t: Transaction): Promise<Outcome> {
  let tenantId = await tenantByCustomer(s.customer, t);
  const claimed = s.client_reference_id ?? s.metadata?.tenantId;
  if (tenantId && claimed && claimed !== tenantId)
    log.warn({ eventId: ev.id, customer: s.customer, claimed, tenantId }, 'checkout session names another tenant than its customer: the customer wins');
  if (!tenantId && claimed && isUuid(claimed)) {
    // Our own Checkout (client_reference_id is set by us) for a tenant whose customer id is not stored yet.
    const row = await lockTenantSubscription(claimed, t);
    if (row && (!row.stripe_customer_id || row.stripe_customer_id === s.customer)) {
      tenantId = claimed;
      if (s.customer && !row.stripe_customer_id)
        await db().query(`UPDATE billing_subscription SET stripe_customer_id = :customer, updated_at = NOW() WHERE id = :id`, {
          replacements: { customer: s.customer, id: row.id },
          transaction: t,
        });
    }
  }
  if (!tenantId) return unknownCustomer(ev, s.customer);
  await lockTenantSubscription(tenantId, t);

  if (s.mode === 'subscription') {
    // Link the subscription to the tenant; its state arrives with customer.subscription.* events. The link
    // row carries the lowest possible event key, so any real event about the subscription overrides it.
    if (s.subscription && s.customer)
      await db().query(
        `INSERT INTO billing_stripe_subscription (id, tenant_id, customer_id, status, state_event_id, state_event_created, state_event_rank)
         VALUES (:id, :tenantId, :customer, 'incomplete', :eventId, 0, -1) ON CONFLICT (id) DO NOTHING`,
        { replacements: { id: s.subscription, tenantId, customer: s.customer, eventId: ev.id }, transaction: t },
      );
    await recordAudit(
      { tenantId, userId: await tenantUser(tenantId, s.metadata?.userId, t), action: 'billing.checkout_completed', resourceType: 'subscription', details: { sessionId: s.id, plan: s.metadata?.plan, interval: s.metadata?.interval, stripeSubscriptionId: s.subscription } },
      t,
    );
    return { tenantId, outcome: 'linked' };
  }

  if (s.mode !== 'payment' || s.metadata?.kind !== 'token_package') return { tenantId, outcome: 'ignored' };
  if (s.payment_status !== 'paid' && s.payment_status !== 'no_payment_required') return { tenantId, outcome: 'awaiting_payment' };
  let tokens = Number(s.metadata?.tokens);
  if (!Number.isSafeInteger(tokens) || tokens <= 0) {
    const pkgId = s.metadata?.packageId;
    const pkg = pkgId && isUuid(pkgId) ? await TokenPackage.findByPk(pkgId, { transaction: t }) : null;
    if (!pkg) {
      log.error({ eventId: ev.id, sessionId: s.id, metadata: s.metadata }, 'paid token checkout names no token package: nothing credited');
      return { tenantId, outcome: 'unknown_package' };
    }
    tokens = pkg.tokens;
  }
  const credited = await grantTokensOnce(
    {
      key: `checkout:${s.id}`,
      tenantId,
      tokens,
      operation: 'token_purchase',
      purchased: true,
      metadata: { sessionId: s.id, packageId: s.metadata?.packageId, amountTotal: s.amount_total, currency: s.currency, stripeEvent: ev.id },
    },
    t,
  );
  if (!credited) return { tenantId, outcome: 'already_credited' };
  await recordAudit(
    {
      tenantId,
      userId: await tenantUser(tenantId, s.metadata?.userId, t),
      action: 'billing.tokens_purchased',
      resourceType: 'token_balance',
      details: { tokens, packageId: s.metadata?.packageId, sessionId: s.id, amountTotal: s.amount_total, currency: s.currency, balanceAfter: credited.balanceAfter },
    },
    t,
  );
  return { tenantId, outcome: 'credited' };
}

// ---------------------------------------------------------------------------------------------------------
// customer.subscription.*

const toDate = (s: number | null | undefined) => (s == null ? null : new Date(s * 1000));
const toInterval = (v: string | undefined): Interval | null => (v === 'month' ? 'monthly' : v === 'year' ? 'yearly' : null);

interface SubscriptionState {
  id: string;
  customerId: string;
  status: string;
  priceId: string | null;
  planId: string | null;
  interval: Interval | null;
  created: Date | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  trialEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  endedAt: Date | null;
}

async function subscriptionState(sub: SubscriptionPayload, ev: EventInfo, t: Transaction): Promise<SubscriptionState> {
  const item = sub.items?.data[0];
  const priceId = item?.price?.id ?? null;
  let planId: string | null = null;
  let interval = toInterval(item?.price?.recurring?.interval ?? undefined);
  if (priceId) {
    const mapped = await planForPrice(priceId, t);
    if (mapped) {
      planId = mapped.plan.id;
      interval = mapped.interval;
    }
  }
  if (!planId && sub.metadata?.plan) {
    // Checkout sent an inline price (no price id configured): our own metadata names the plan.
    const rows = await db().query<{ id: string }>(`SELECT id FROM billing_plan WHERE slug = :slug`, { replacements: { slug: sub.metadata.plan }, transaction: t, type: QueryTypes.SELECT });
    planId = rows[0]?.id ?? null;
  }
  if (!planId) log.warn({ eventId: ev.id, subscription: sub.id, priceId }, 'stripe subscription price matches no plan: plan left unchanged');
  return {
    id: sub.id,
    customerId: sub.customer,
    status: sub.status,
    priceId,
    planId,
    interval,
    created: toDate(sub.created),
    periodStart: toDate(item?.current_period_start ?? sub.current_period_start),
    periodEnd: toDate(item?.current_period_end ?? sub.current_period_end),
    trialEnd: toDate(sub.trial_end),
    cancelAtPeriodEnd: !!sub.cancel_at_period_end,
    canceledAt: toDate(sub.canceled_at),
    endedAt: toDate(sub.ended_at),
  };
}

async function lockStripeSubscription(id: string, t: Transaction): Promise<StripeSubscriptionRow | undefined> {
  const rows = await db().query<StripeSubscriptionRow>(`SELECT * FROM billing_stripe_subscription WHERE id = :id FOR UPDATE`, {
    replacements: { id },
    transaction: t,
    type: QueryTypes.SELECT,
  });
  return rows[0];
}

const isNewer = (ev: EventInfo, row: StripeSubscriptionRow) => {
  const rank = RANK[ev.type] ?? 0;
  return ev.created > Number(row.state_event_created) || (ev.created === Number(row.state_event_created) && rank >= row.state_event_rank);
};

const stateReplacements = (s: SubscriptionState) => ({
  id: s.id,
  customer: s.customerId,
  status: s.status,
  priceId: s.priceId,
  planId: s.planId,
  interval: s.interval,
  created: s.created,
  periodStart: s.periodStart,
  periodEnd: s.periodEnd,
  trialEnd: s.trialEnd,
  cancelAtPeriodEnd: s.cancelAtPeriodEnd,
  canceledAt: s.canceledAt,
  endedAt: s.endedAt,
});

async function onSubscription(sub: SubscriptionPayload, ev: EventInfo, t: Transaction): Promise<Outcome> {
  const tenantId = (await tenantByCustomer(sub.customer, t)) ?? (await tenantByStripeSubscription(sub.id, t));
  if (!tenantId) return unknownCustomer(ev, sub.customer);
  await lockTenantSubscription(tenantId, t);
  const state = await subscriptionState(sub, ev, t);
  const key = { eventId: ev.id, eventCreated: ev.created, eventRank: RANK[ev.type] ?? 0 };
  const row = await lockStripeSubscription(sub.id, t);
  let outcome = 'applied';
  if (!row) {
    await db().query(
      `INSERT INTO billing_stripe_subscription (id, tenant_id, customer_id, status, price_id, plan_id, interval, stripe_created,
         current_period_start, current_period_end, trial_end, cancel_at_period_end, canceled_at, ended_at,
         state_event_id, state_event_created, state_event_rank)
       VALUES (:id, :tenantId, :customer, :status, :priceId, :planId, :interval, :created, :periodStart, :periodEnd, :trialEnd,
         :cancelAtPeriodEnd, :canceledAt, :endedAt, :eventId, :eventCreated, :eventRank)`,
      { replacements: { ...stateReplacements(state), ...key, tenantId }, transaction: t },
    );
  } else if (row.tenant_id !== tenantId) {
    log.error({ eventId: ev.id, subscription: sub.id, tenantId, owner: row.tenant_id }, 'stripe subscription moved to another tenant: ignored');
    return { tenantId, outcome: 'tenant_mismatch' };
  } else if (isNewer(ev, row) && !(ENDED.has(row.status) && !ENDED.has(state.status))) {
    await db().query(
      `UPDATE billing_stripe_subscription SET customer_id = :customer, status = :status, price_id = COALESCE(:priceId, price_id),
         plan_id = COALESCE(:planId, plan_id), interval = COALESCE(CAST(:interval AS subscription_interval), interval),
         stripe_created = COALESCE(:created, stripe_created), current_period_start = COALESCE(:periodStart, current_period_start),
         current_period_end = COALESCE(:periodEnd, current_period_end), trial_end = :trialEnd,
         cancel_at_period_end = :cancelAtPeriodEnd, canceled_at = :canceledAt, ended_at = :endedAt,
         state_event_id = :eventId, state_event_created = :eventCreated, state_event_rank = :eventRank, updated_at = NOW()
       WHERE id = :id`,
      { replacements: { ...stateReplacements(state), ...key }, transaction: t },
    );
  } else {
    // Older than what we know (or about an ended subscription): only fill in what is still unknown.
    await db().query(
      `UPDATE billing_stripe_subscription SET price_id = COALESCE(price_id, :priceId), plan_id = COALESCE(plan_id, :planId),
         interval = COALESCE(interval, CAST(:interval AS subscription_interval)), stripe_created = COALESCE(stripe_created, :created),
         current_period_start = COALESCE(current_period_start, :periodStart), current_period_end = COALESCE(current_period_end, :periodEnd),
         updated_at = NOW()
       WHERE id = :id`,
      { replacements: stateReplacements(state), transaction: t },
    );
    outcome = 'stale';
  }
  // The period this event shows, credited once if it is in good standing (stale events too: the credit
  // belongs to the period, not to the latest state).
  await grantStripePeriod({ tenantId, subscriptionId: sub.id, planId: state.planId, periodStart: state.periodStart, status: state.status, eventId: ev.id }, t);
  return { tenantId, outcome, ...(await sync(tenantId, ev, t)) };
}

/** Re-derive the tenant's subscription; older live subscriptions replaced by a new Checkout are cancelled after commit. */
async function sync(tenantId: string, ev: EventInfo, t: Transaction): Promise<Pick<Outcome, 'afterCommit'>> {
  const { superseded } = await syncTenantSubscription(tenantId, t, { eventId: ev.id, eventType: ev.type, at: new Date(ev.created * 1000) });
  if (!superseded.length) return {};
  return {
    afterCommit: async () => {
      for (const id of superseded) {
        await stripe()
          .subscriptions.cancel(id, { prorate: true })
          .then(() => log.info({ subscription: id, tenantId }, 'cancelled a Stripe subscription replaced by a newer one'))
          .catch((err) => log.warn({ err, subscription: id, tenantId }, 'could not cancel a replaced Stripe subscription'));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// invoice.paid / invoice.payment_failed

async function onInvoice(inv: InvoicePayload, ev: EventInfo, t: Transaction): Promise<Outcome> {
  const subscriptionId = inv.parent?.subscription_details?.subscription ?? inv.subscription ?? null;
  if (!subscriptionId) return { tenantId: await tenantByCustomer(inv.customer, t), outcome: 'not_a_subscription_invoice' };
  const tenantId = (await tenantByCustomer(inv.customer, t)) ?? (await tenantByStripeSubscription(subscriptionId, t));
  if (!tenantId) return unknownCustomer(ev, inv.customer);
  await lockTenantSubscription(tenantId, t);
  const paid = ev.type === 'invoice.paid';
  // The subscription period this invoice pays for: only renewal and first invoices move the period
  // (a proration invoice's lines cover part of the current one).
  const renews = !inv.billing_reason || inv.billing_reason === 'subscription_cycle' || inv.billing_reason === 'subscription_create';
  const line = (inv.lines?.data ?? []).filter((l) => l.period).sort((a, b) => b.period!.start - a.period!.start)[0];
  const periodStart = renews && line ? toDate(line.period!.start) : null;
  const periodEnd = renews && line ? toDate(line.period!.end) : null;
  const key = { eventId: ev.id, eventCreated: ev.created, eventRank: RANK[ev.type] ?? 1 };
  const priceId = line?.pricing?.price_details?.price ?? line?.price?.id ?? null;
  const mapped = priceId ? await planForPrice(priceId, t) : undefined;
  const row = await lockStripeSubscription(subscriptionId, t);
  let outcome = 'applied';
  if (!row) {
    // The invoice came before any subscription event: start the row from it; the subscription events fill in the rest.
    await db().query(
      `INSERT INTO billing_stripe_subscription (id, tenant_id, customer_id, status, price_id, plan_id, interval,
         current_period_start, current_period_end, state_event_id, state_event_created, state_event_rank)
       VALUES (:id, :tenantId, :customer, :status, :priceId, :planId, :interval, :periodStart, :periodEnd, :eventId, :eventCreated, :eventRank)`,
      {
        replacements: {
          id: subscriptionId,
          tenantId,
          customer: inv.customer,
          status: paid ? 'active' : inv.billing_reason === 'subscription_create' ? 'incomplete' : inv.next_payment_attempt == null ? 'unpaid' : 'past_due',
          priceId,
          planId: mapped?.plan.id ?? null,
          interval: mapped?.interval ?? null,
          periodStart,
          periodEnd,
          ...key,
        },
        transaction: t,
      },
    );
  } else if (row.tenant_id !== tenantId) {
    log.error({ eventId: ev.id, subscription: subscriptionId, tenantId, owner: row.tenant_id }, 'invoice for a subscription of another tenant: ignored');
    return { tenantId, outcome: 'tenant_mismatch' };
  } else {
    // Periods only move forward, whatever the order of delivery.
    if (periodStart && (!row.current_period_start || +periodStart > +row.current_period_start))
      await db().query(`UPDATE billing_stripe_subscription SET current_period_start = :periodStart, current_period_end = :periodEnd, updated_at = NOW() WHERE id = :id`, {
        replacements: { periodStart, periodEnd, id: subscriptionId },
        transaction: t,
      });
    if (isNewer(ev, row) && !ENDED.has(row.status)) {
      const status = paid
        ? ['past_due', 'unpaid', 'paused', 'incomplete'].includes(row.status)
          ? 'active'
          : row.status
        : row.status === 'incomplete' // a failed first payment: the subscription never started
          ? row.status
          : inv.next_payment_attempt == null
            ? 'unpaid'
            : 'past_due';
      await db().query(
        `UPDATE billing_stripe_subscription SET status = :status, state_event_id = :eventId, state_event_created = :eventCreated,
           state_event_rank = :eventRank, updated_at = NOW() WHERE id = :id`,
        { replacements: { status, ...key, id: subscriptionId }, transaction: t },
      );
    } else outcome = 'stale';
  }
  // A paid renewal (or first) invoice credits its period's included tokens, once.
  if (paid && periodStart)
    await grantStripePeriod(
      { tenantId, subscriptionId, planId: mapped?.plan.id ?? row?.plan_id ?? null, periodStart, status: 'active', eventId: ev.id },
      t,
    );
  if (!paid)
    await recordAudit(
      {
        tenantId,
        action: 'billing.payment_failed',
        resourceType: 'subscription',
        details: { invoice: inv.id, stripeSubscriptionId: subscriptionId, attempt: inv.attempt_count, nextAttempt: toDate(inv.next_payment_attempt)?.toISOString() ?? null },
      },
      t,
    );
  return { tenantId, outcome, ...(await sync(tenantId, ev, t)) };
}
