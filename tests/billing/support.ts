// Billing test support: the app configured with Stripe pointed at the fake Stripe server, Stripe event
// payloads in the current API shape (periods on subscription items, the invoice's subscription under
// parent.subscription_details), signed with the stripe library's own test-header helper, and SQL reads.
import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import Stripe from 'stripe';
import { afterAll, beforeAll } from 'vitest';
import { setConfig } from '../../src/config.js';
import { db } from '../../src/db/index.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe-server.js';
import { call, STRONG_PASSWORD, testConfig, uniqueEmail, useTestApp } from '../support/harness.js';

export const WEBHOOK_SECRET = 'whsec_test_' + randomBytes(8).toString('hex');

/** Price ids the tests configure through STRIPE_PRICE_IDS. */
export const PRICES = {
  standardMonthly: 'price_standard_monthly',
  standardYearly: 'price_standard_yearly',
  professionalMonthly: 'price_professional_monthly',
  enterpriseMonthly: 'price_enterprise_monthly',
  tokens1m: 'price_tokens_1m',
};

export function stripeEnv(fake: FakeStripe): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: fake.secretKey,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_URL: fake.url,
    STRIPE_PRICE_IDS: [
      `standard:monthly=${PRICES.standardMonthly}`,
      `standard:yearly=${PRICES.standardYearly}`,
      `professional:monthly=${PRICES.professionalMonthly}`,
      `enterprise:monthly=${PRICES.enterpriseMonthly}`,
      `tokens:1000000=${PRICES.tokens1m}`,
    ].join(','),
  };
}

/** The test app with billing enabled against a fake Stripe started for this file. */
export function useBillingApp() {
  const t = useTestApp();
  let fake: FakeStripe | undefined;
  beforeAll(async () => {
    fake = await startFakeStripe();
    setConfig(testConfig(stripeEnv(fake)));
  });
  afterAll(async () => {
    await fake?.close();
  });
  return {
    get db() {
      return t.db;
    },
    get fake() {
      return fake!;
    },
  };
}

/** Switch billing off (no Stripe keys) or back on for the rest of a test. */
export const billingOff = () => setConfig(testConfig({}));
export const billingOn = (fake: FakeStripe) => setConfig(testConfig(stripeEnv(fake)));

// ---------------------------------------------------------------------------------------------------------
// Events

const sec = (d: Date | number) => (typeof d === 'number' ? d : Math.floor(d.getTime() / 1000));
export const rid = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

export interface StripeEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: Record<string, unknown> };
}

export function event(type: string, object: Record<string, unknown>, opts: { id?: string; created?: number | Date } = {}): StripeEvent {
  return { id: opts.id ?? rid('evt'), object: 'event', type, created: sec(opts.created ?? new Date()), api_version: '2026-10-28.endive', livemode: false, data: { object } };
}

export function subscriptionObject(o: {
  id: string;
  customer: string;
  status: string;
  price: string | null;
  interval?: 'month' | 'year';
  periodStart: Date | number;
  periodEnd: Date | number;
  created?: Date | number;
  trialEnd?: Date | number | null;
  cancelAtPeriodEnd?: boolean;
  canceledAt?: Date | number | null;
  endedAt?: Date | number | null;
  metadata?: Record<string, string>;
}) {
  return {
    id: o.id,
    object: 'subscription',
    customer: o.customer,
    status: o.status,
    created: sec(o.created ?? o.periodStart),
    trial_end: o.trialEnd ? sec(o.trialEnd) : null,
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    canceled_at: o.canceledAt ? sec(o.canceledAt) : null,
    ended_at: o.endedAt ? sec(o.endedAt) : null,
    metadata: o.metadata ?? {},
    items: {
      object: 'list',
      data: [
        {
          id: rid('si'),
          object: 'subscription_item',
          current_period_start: sec(o.periodStart),
          current_period_end: sec(o.periodEnd),
          price: o.price ? { id: o.price, object: 'price', recurring: { interval: o.interval ?? 'month' } } : null,
        },
      ],
    },
  };
}

export function invoiceObject(o: {
  customer: string;
  subscription: string;
  price?: string;
  periodStart: Date | number;
  periodEnd: Date | number;
  billingReason?: string;
  nextPaymentAttempt?: Date | number | null;
  attemptCount?: number;
}) {
  return {
    id: rid('in'),
    object: 'invoice',
    customer: o.customer,
    billing_reason: o.billingReason ?? 'subscription_cycle',
    attempt_count: o.attemptCount ?? 1,
    next_payment_attempt: o.nextPaymentAttempt ? sec(o.nextPaymentAttempt) : null,
    parent: { type: 'subscription_details', subscription_details: { subscription: o.subscription, metadata: {} } },
    lines: {
      object: 'list',
      data: [
        {
          id: rid('il'),
          object: 'line_item',
          period: { start: sec(o.periodStart), end: sec(o.periodEnd) },
          pricing: o.price ? { type: 'price_details', price_details: { price: o.price, product: 'prod_x' } } : null,
        },
      ],
    },
  };
}

export function checkoutSessionObject(o: {
  id?: string;
  mode: 'payment' | 'subscription';
  customer: string | null;
  tenantId?: string;
  subscription?: string | null;
  paymentStatus?: string;
  metadata?: Record<string, string>;
  amountTotal?: number;
}) {
  return {
    id: o.id ?? rid('cs_test'),
    object: 'checkout.session',
    mode: o.mode,
    customer: o.customer,
    client_reference_id: o.tenantId ?? null,
    subscription: o.subscription ?? null,
    payment_status: o.paymentStatus ?? 'paid',
    status: 'complete',
    metadata: o.metadata ?? {},
    amount_total: o.amountTotal ?? null,
    currency: 'usd',
  };
}

/** Sign a payload the way Stripe does (optionally at another time, for stale-timestamp tests). */
export function sign(payload: string, opts: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET, timestamp: opts.timestamp });
}

/** POST a signed event to the webhook endpoint. */
export function deliver(ev: StripeEvent | string, opts: { signature?: string | null; secret?: string; timestamp?: number } = {}) {
  const payload = typeof ev === 'string' ? ev : JSON.stringify(ev);
  const signature = opts.signature === undefined ? sign(payload, opts) : opts.signature;
  return call('POST', '/api/billing/webhook', { body: payload, headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) } });
}

// ---------------------------------------------------------------------------------------------------------
// Reads

export async function one<T extends object = any>(sql: string, replacements: Record<string, unknown> = {}): Promise<T> {
  const rows = await db().query<T>(sql, { replacements, type: QueryTypes.SELECT });
  return rows[0]!;
}

export async function rows<T extends object = any>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  return db().query<T>(sql, { replacements, type: QueryTypes.SELECT });
}

export const subscriptionOf = (tenantId: string) =>
  one<{
    status: string;
    interval: string;
    plan: string;
    stripe_subscription_id: string | null;
    stripe_customer_id: string | null;
    current_period_start: Date;
    current_period_end: Date;
    documents_used_this_period: number;
    storage_used_gb: number;
    cancelled_at: Date | null;
  }>(
    `SELECT s.status, s.interval, p.slug AS plan, s.stripe_subscription_id, s.stripe_customer_id, s.current_period_start, s.current_period_end,
            s.documents_used_this_period, s.storage_used_gb, s.cancelled_at
       FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id WHERE s.tenant_id = :tenantId`,
    { tenantId },
  );

export const tenantOf = (tenantId: string) =>
  one<{ tier: string; status: string; max_users: number; max_storage_gb: number }>(`SELECT tier, status, max_users, max_storage_gb FROM core_tenant WHERE id = :tenantId`, { tenantId });

export const balanceOf = (tenantId: string) =>
  one<{ balance: number; lifetime_purchased: number; lifetime_used: number; low_balance_alert_sent: boolean }>(
    `SELECT balance, lifetime_purchased, lifetime_used, low_balance_alert_sent FROM billing_token_balance WHERE tenant_id = :tenantId`,
    { tenantId },
  );

export const ledgerOf = (tenantId: string) =>
  rows<{ amount: number; operation: string; balance_after: number; metadata: any }>(
    `SELECT amount, operation, balance_after, metadata FROM billing_token_transaction WHERE tenant_id = :tenantId ORDER BY created_at, id`,
    { tenantId },
  );

/** Give a tenant a Stripe customer id directly (as a completed first checkout would). */
export async function linkCustomer(tenantId: string, customer = rid('cus')): Promise<string> {
  await db().query(`UPDATE billing_subscription SET stripe_customer_id = :customer WHERE tenant_id = :tenantId`, { replacements: { customer, tenantId } });
  return customer;
}

export const DAY = 86_400_000;
export const addDays = (d: Date, n: number) => new Date(d.getTime() + n * DAY);

/** Add a user with a role to the owner's team and sign them in; returns their session token and id. */
export async function addMember(team: { token: string; slug: string }, role: 'admin' | 'manager' | 'member' | 'viewer') {
  const email = uniqueEmail(role);
  const created = await call('POST', '/api/users', { token: team.token, json: { email, password: STRONG_PASSWORD, role } });
  if (created.status !== 201) throw new Error(`create user failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await call('POST', '/api/auth/login', { json: { email, password: STRONG_PASSWORD, tenantSlug: team.slug } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: created.body.id as string, token: login.body.token as string, email };
}
