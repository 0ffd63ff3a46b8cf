// Billing: plans and token packages (everyone signed in), the subscription and its usage (managers+),
// Checkout, the customer portal and alert settings (owners/admins), the token balance and ledger, and
// the Stripe webhook (public, verified by signature).
import type { MiddlewareHandler } from 'hono';
import { authorize, policies } from '../../auth/policies.js';
import { getBillingOverview, getTokenBalance, listTokenTransactions, setLowBalanceThreshold } from '../../billing/account.js';
import { listPackages, listPlans } from '../../billing/catalog.js';
import { createPortalSession, createSubscriptionCheckout, createTokenCheckout } from '../../billing/checkout.js';
import { handleStripeWebhook } from '../../billing/webhooks.js';
import type { AppEnv } from '../env.js';
import { requireAuth } from '../middleware.js';
import { jsonBody, jsonRoute, Pagination, router, z } from '../openapi.js';

export const WEBHOOK_PATH = '/api/billing/webhook';

const PlanSchema = z
  .object({
    id: z.string().uuid(),
    slug: z.string(),
    name: z.string(),
    tier: z.string(),
    currency: z.string(),
    priceMonthly: z.number(),
    priceYearly: z.number(),
    maxUsers: z.number().int(),
    maxDocumentsPerMonth: z.number().int(),
    maxStorageGb: z.number().int(),
    includedTokens: z.number().int(),
    features: z.record(z.string(), z.unknown()),
    purchasable: z.boolean(),
  })
  .openapi('Plan');

const PackageSchema = z
  .object({ id: z.string().uuid(), name: z.string(), tokens: z.number().int(), currency: z.string(), price: z.number(), purchasable: z.boolean() })
  .openapi('TokenPackage');

const BalanceSchema = z
  .object({
    balance: z.number().int(),
    lifetimePurchased: z.number().int(),
    lifetimeUsed: z.number().int(),
    lowBalanceThreshold: z.number().int(),
    lowBalanceAlertSent: z.boolean(),
  })
  .openapi('TokenBalance');

const OverviewSchema = z
  .object({
    plan: PlanSchema,
    subscription: z.object({
      status: z.enum(['trialing', 'active', 'past_due', 'canceled', 'unpaid']),
      interval: z.enum(['monthly', 'yearly']),
      trialEnd: z.date().nullable(),
      currentPeriodStart: z.date(),
      currentPeriodEnd: z.date(),
      cancelledAt: z.date().nullable(),
      cancelAtPeriodEnd: z.boolean(),
      managedByStripe: z.boolean(),
      blocked: z.array(z.string()).openapi({ description: 'What the status stops now: document_generation, uploads' }),
    }),
    usage: z.object({
      documentsUsed: z.number().int(),
      documentsLimit: z.number().int(),
      storageUsedGb: z.number(),
      storageLimitGb: z.number(),
      activeUsers: z.number().int(),
      maxUsers: z.number().int(),
    }),
    tokens: BalanceSchema,
    billingConfigured: z.boolean(),
  })
  .openapi('BillingOverview');

const CheckoutLinkSchema = z.object({ url: z.string().url(), sessionId: z.string(), expiresAt: z.date().nullable() }).openapi('CheckoutLink');

const CheckoutBody = z
  .object({
    plan: z.string().trim().min(1).max(50).openapi({ example: 'standard' }),
    interval: z.enum(['monthly', 'yearly']).default('monthly'),
  })
  .openapi('CheckoutBody');

const TokenCheckoutBody = z
  .object({
    packageId: z.string().uuid().optional(),
    tokens: z.number().int().positive().optional().openapi({ description: 'Pick the package by its token count instead of its id' }),
  })
  .refine((b) => !!b.packageId || !!b.tokens, { message: 'give packageId or tokens' })
  .openapi('TokenCheckoutBody');

const ThresholdBody = z.object({ lowBalanceThreshold: z.number().int().min(0).max(1_000_000_000) }).strict().openapi('BalanceSettingsBody');

const LedgerEntrySchema = z
  .object({ id: z.string().uuid(), amount: z.number().int(), operation: z.string(), balanceAfter: z.number().int(), metadata: z.record(z.string(), z.unknown()), createdAt: z.date() })
  .openapi('TokenTransaction');

const TransactionsQuery = Pagination.extend({
  operation: z.string().trim().min(1).max(100).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
});

const WebhookResultSchema = z
  .object({ received: z.literal(true), eventId: z.string(), type: z.string(), duplicate: z.boolean(), outcome: z.string() })
  .openapi('WebhookResult');

/** Every billing route needs a signed-in caller except the webhook, which Stripe signs instead. */
const authUnlessWebhook: MiddlewareHandler<AppEnv> = (c, next) => (c.req.path === WEBHOOK_PATH ? next() : requireAuth(c, next));

export const billingRoutes = router();
billingRoutes.use('/api/billing/*', authUnlessWebhook);

billingRoutes
  .openapi(
    jsonRoute({ method: 'get', path: '/api/billing/plans', tags: ['billing'], summary: 'The plans on offer (active ones), with prices, limits and included tokens', response: z.object({ plans: z.array(PlanSchema) }) }),
    async (c) => c.json({ plans: await listPlans() } as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/billing/packages', tags: ['billing'], summary: 'The token packages on offer', response: z.object({ packages: z.array(PackageSchema) }) }),
    async (c) => c.json({ packages: await listPackages() } as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/billing/subscription', tags: ['billing'], summary: 'The team’s plan, subscription, period usage against limits and token balance (managers+)', response: OverviewSchema }),
    async (c) => {
      const auth = c.get('auth');
      authorize(policies.viewBilling(auth), 'Only managers, admins and owners can see the subscription.');
      return c.json((await getBillingOverview(auth.tenantId)) as never, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/billing/checkout',
      tags: ['billing'],
      summary: 'Start Stripe Checkout to subscribe to or change plan (owners/admins); returns the Checkout URL',
      description: 'The plan changes when Stripe confirms (webhook), not when this returns. 503 billing_not_configured without Stripe keys; 502 payment_provider_unavailable when Stripe fails.',
      request: jsonBody(CheckoutBody),
      response: CheckoutLinkSchema,
      status: 201,
    }),
    async (c) => c.json((await createSubscriptionCheckout(c.get('auth'), c.req.valid('json'))) as never, 201),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/billing/checkout/tokens',
      tags: ['billing'],
      summary: 'Start Stripe Checkout for a token package (owners/admins); tokens are credited once payment is confirmed',
      request: jsonBody(TokenCheckoutBody),
      response: CheckoutLinkSchema.extend({ package: PackageSchema.omit({ purchasable: true }) }),
      status: 201,
    }),
    async (c) => c.json((await createTokenCheckout(c.get('auth'), c.req.valid('json'))) as never, 201),
  )
  .openapi(
    jsonRoute({ method: 'post', path: '/api/billing/portal', tags: ['billing'], summary: 'Open the Stripe customer portal: cards, invoices, cancellation (owners/admins)', response: z.object({ url: z.string().url() }), status: 201 }),
    async (c) => c.json((await createPortalSession(c.get('auth'))) as never, 201),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/billing/balance', tags: ['billing'], summary: 'The team’s token balance and lifetime counters', response: BalanceSchema }),
    async (c) => {
      const auth = c.get('auth');
      authorize(policies.read(auth));
      return c.json((await getTokenBalance(auth.tenantId)) as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'patch', path: '/api/billing/balance', tags: ['billing'], summary: 'Set the low-balance alert threshold (owners/admins)', request: jsonBody(ThresholdBody), response: BalanceSchema }),
    async (c) => c.json((await setLowBalanceThreshold(c.get('auth'), c.req.valid('json').lowBalanceThreshold)) as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/billing/transactions',
      tags: ['billing'],
      summary: 'The token ledger, newest first: every credit and debit with its balance after (managers+)',
      request: { query: TransactionsQuery },
      response: z.object({ transactions: z.array(LedgerEntrySchema), total: z.number().int() }),
    }),
    async (c) => c.json((await listTokenTransactions(c.get('auth'), c.req.valid('query'))) as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: WEBHOOK_PATH,
      tags: ['billing'],
      summary: 'Stripe webhook endpoint (signed by Stripe; not for API clients)',
      description:
        'The raw JSON event, verified against the Stripe-Signature header (300 s tolerance). Each event id is applied once; a replay answers 200 with duplicate: true. 400 missing_signature / invalid_signature / stale_signature / invalid_payload; events for unknown customers answer 200 (outcome unknown_customer).',
      request: { headers: z.object({ 'stripe-signature': z.string().optional() }) },
      response: WebhookResultSchema,
      public: true,
    }),
    async (c) => {
      const raw = Buffer.from(await c.req.arrayBuffer());
      return c.json((await handleStripeWebhook(raw, c.req.header('stripe-signature'))) as never, 200);
    },
  );
