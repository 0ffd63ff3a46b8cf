// Stripe Checkout and the customer portal: subscribe or change plan (monthly/yearly), buy a token package,
// manage cards and cancel. Owners and admins only. No transaction is held open across a Stripe call: the
// customer id is stored in a short transaction of its own, and nothing is credited here — the webhook
// does that once Stripe says the payment went through.
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { recordAudit } from '../analytics/audit.js';
import { config } from '../config.js';
import { db } from '../db/index.js';
import { Subscription, Tenant, User } from '../db/models/index.js';
import { conflict } from '../errors.js';
import { log } from '../log.js';
import { activePackage, activePlan, CURRENCY, packagePriceId, planPriceId, toCents, type Interval } from './catalog.js';
import { billingNotConfigured, isBillingConfigured, stripe, stripeFailure } from './stripe-client.js';
import { liveStripeSubscription } from './subscriptions.js';

/** Who asks: an HTTP caller (AuthContext) or a tool call (ToolContext) — tenant and user from auth, never input. */
export type BillingActor = Pick<AuthContext, 'tenantId' | 'userId' | 'role' | 'scopes' | 'apiKeyId'> & { ip?: string; userAgent?: string };

export interface CheckoutLink {
  url: string;
  sessionId: string;
  expiresAt: Date | null;
}

function assertCanManage(actor: BillingActor) {
  authorize(policies.manageBilling(actor as AuthContext), 'Only owners and admins can change the plan or buy tokens.');
  if (!isBillingConfigured()) throw billingNotConfigured();
}

const audit = (actor: BillingActor, action: string, details: Record<string, unknown>) =>
  recordAudit({
    tenantId: actor.tenantId,
    userId: actor.userId,
    action,
    resourceType: 'subscription',
    details: { ...details, ...(actor.apiKeyId ? { apiKeyId: actor.apiKeyId } : {}) },
    ip: actor.ip,
    userAgent: actor.userAgent,
  });

const returnUrl = (status: string) => `${config().publicUrl}/billing?checkout=${status}`;

/** The tenant's Stripe customer, created on first use (idempotently: concurrent first uses get one customer). */
export async function ensureStripeCustomer(actor: BillingActor): Promise<string> {
  const existing = await Subscription.findOne({ where: { tenantId: actor.tenantId }, attributes: ['stripeCustomerId'] });
  if (existing?.stripeCustomerId) return existing.stripeCustomerId;
  const [tenant, user] = await Promise.all([Tenant.findByPk(actor.tenantId), User.findOne({ where: { id: actor.userId, tenantId: actor.tenantId } })]);
  let customerId: string;
  try {
    const customer = await stripe().customers.create(
      { name: tenant?.name, email: user?.email, metadata: { tenantId: actor.tenantId, tenantSlug: tenant?.slug ?? '' } },
      { idempotencyKey: `flowspark-customer-${actor.tenantId}` },
    );
    customerId = customer.id;
  } catch (err) {
    throw stripeFailure(err);
  }
  await db().query(`UPDATE billing_subscription SET stripe_customer_id = :customerId, updated_at = NOW() WHERE tenant_id = :tenantId AND stripe_customer_id IS NULL`, {
    replacements: { customerId, tenantId: actor.tenantId },
  });
  const stored = await Subscription.findOne({ where: { tenantId: actor.tenantId }, attributes: ['stripeCustomerId'] });
  if (stored?.stripeCustomerId !== customerId) log.warn({ tenantId: actor.tenantId, customerId, stored: stored?.stripeCustomerId }, 'a second Stripe customer was created for a tenant; using the stored one');
  return stored!.stripeCustomerId!;
}

/** Checkout (subscription mode) for a plan; a tenant already paying for a plan switches to the new one when it completes. */
export async function createSubscriptionCheckout(actor: BillingActor, input: { plan: string; interval: Interval }): Promise<CheckoutLink> {
  assertCanManage(actor);
  const plan = await activePlan(input.plan);
  const live = await liveStripeSubscription(actor.tenantId);
  if (live && live.plan_id === plan.id && live.interval === input.interval && live.status !== 'unpaid' && !live.cancel_at_period_end)
    throw conflict('already_subscribed', `Your team is already on the ${plan.name} plan, billed ${input.interval}. Use the billing portal to manage it.`);
  const customer = await ensureStripeCustomer(actor);
  const price = planPriceId(plan, input.interval);
  const amount = toCents(input.interval === 'monthly' ? plan.priceMonthly : plan.priceYearly);
  const metadata = { tenantId: actor.tenantId, userId: actor.userId, kind: 'subscription', plan: plan.slug, interval: input.interval };
  let session: Awaited<ReturnType<ReturnType<typeof stripe>['checkout']['sessions']['create']>>;
  try {
    session = await stripe().checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: actor.tenantId,
      line_items: [
        price
          ? { price, quantity: 1 }
          : {
              quantity: 1,
              price_data: {
                currency: CURRENCY,
                unit_amount: amount,
                recurring: { interval: input.interval === 'monthly' ? 'month' : 'year' },
                product_data: { name: `FlowSpark ${plan.name} (${input.interval})`, metadata: { plan: plan.slug } },
              },
            },
      ],
      subscription_data: { metadata: { tenantId: actor.tenantId, plan: plan.slug, interval: input.interval } },
      metadata,
      success_url: `${returnUrl('success')}&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: returnUrl('cancelled'),
    });
  } catch (err) {
    throw stripeFailure(err);
  }
  await audit(actor, 'billing.checkout_started', { sessionId: session.id, plan: plan.slug, interval: input.interval, replaces: live?.id ?? null });
  return { url: session.url!, sessionId: session.id, expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null };
}

/** Checkout (payment mode) for a token package; the tokens are credited by the webhook, once. */
export async function createTokenCheckout(actor: BillingActor, ref: { packageId?: string; tokens?: number }): Promise<CheckoutLink & { package: { id: string; name: string; tokens: number; price: number; currency: string } }> {
  assertCanManage(actor);
  const pkg = await activePackage(ref);
  const customer = await ensureStripeCustomer(actor);
  const price = packagePriceId(pkg);
  let session: Awaited<ReturnType<ReturnType<typeof stripe>['checkout']['sessions']['create']>>;
  try {
    session = await stripe().checkout.sessions.create({
      mode: 'payment',
      customer,
      client_reference_id: actor.tenantId,
      line_items: [price ? { price, quantity: 1 } : { quantity: 1, price_data: { currency: CURRENCY, unit_amount: toCents(pkg.price), product_data: { name: `FlowSpark ${pkg.name}` } } }],
      metadata: { tenantId: actor.tenantId, userId: actor.userId, kind: 'token_package', packageId: pkg.id, tokens: String(pkg.tokens) },
      success_url: `${returnUrl('success')}&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: returnUrl('cancelled'),
    });
  } catch (err) {
    throw stripeFailure(err);
  }
  await audit(actor, 'billing.token_checkout_started', { sessionId: session.id, packageId: pkg.id, tokens: pkg.tokens });
  return {
    url: session.url!,
    sessionId: session.id,
    expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null,
    package: { id: pkg.id, name: pkg.name, tokens: pkg.tokens, price: toCents(pkg.price) / 100, currency: CURRENCY },
  };
}

/** A Stripe customer-portal session: cards, invoices, plan changes and cancellation. */
export async function createPortalSession(actor: BillingActor): Promise<{ url: string }> {
  assertCanManage(actor);
  const customer = await ensureStripeCustomer(actor);
  let url: string;
  try {
    url = (await stripe().billingPortal.sessions.create({ customer, return_url: returnUrl('portal') })).url;
  } catch (err) {
    throw stripeFailure(err);
  }
  await audit(actor, 'billing.portal_opened', {});
  return { url };
}
