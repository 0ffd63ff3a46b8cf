// Billing tools: the token balance, the period's usage, the plans on offer (read-only), and buying a
// token package (a Stripe Checkout link; spends money, so the user approves it, and only admins/owners).
import { z } from 'zod';
import { authorize } from '../auth/policies.js';
import { atLeast } from '../auth/roles.js';
import { getBillingOverview, getTokenBalance } from '../billing/account.js';
import { listPackages, listPlans } from '../billing/catalog.js';
import { createTokenCheckout } from '../billing/checkout.js';
import { defineTool } from './registry.js';

const fmt = (n: number) => n.toLocaleString('en-US');

export const getTokenBalanceTool = defineTool({
  name: 'get_token_balance',
  title: 'Token balance',
  description: 'How many AI tokens the team has left, and how many it has bought and used in total.',
  inputSchema: z.object({}),
  outputSchema: z.object({ balance: z.number(), lifetimePurchased: z.number(), lifetimeUsed: z.number(), lowBalanceThreshold: z.number() }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\btoken balance\b/i, /\bhow many (tokens|credits)\b.*\b(left|remaining|have|got)\b/i, /\b(tokens|credits) (left|remaining)\b/i],
    extract: () => ({}),
    describe: (o: { balance: number }) => `Your team has ${fmt(o.balance)} tokens left.`,
  },
  execute: async (_input, ctx) => {
    const b = await getTokenBalance(ctx.tenantId);
    return { balance: b.balance, lifetimePurchased: b.lifetimePurchased, lifetimeUsed: b.lifetimeUsed, lowBalanceThreshold: b.lowBalanceThreshold };
  },
});

export const getUsageTool = defineTool({
  name: 'get_usage',
  title: 'Plan usage',
  description: 'The team’s plan and this billing period’s usage against its limits: documents, storage, users and tokens.',
  inputSchema: z.object({}),
  outputSchema: z.object({
    plan: z.string(),
    status: z.string(),
    periodStart: z.coerce.date(),
    periodEnd: z.coerce.date(),
    documentsUsed: z.number(),
    documentsLimit: z.number(),
    storageUsedGb: z.number(),
    storageLimitGb: z.number(),
    activeUsers: z.number(),
    maxUsers: z.number(),
    tokenBalance: z.number(),
    blocked: z.array(z.string()),
  }),
  minRole: 'manager',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(our|my|the team'?s?) (plan'?s? )?(usage|quotas?|limits)\b/i, /\bhow many documents\b.*\b(left|remaining)\b/i, /\b(what|which) plan are we on\b/i],
    extract: () => ({}),
    describe: (o: { plan: string; documentsUsed: number; documentsLimit: number; storageUsedGb: number; storageLimitGb: number; tokenBalance: number }) =>
      `On the ${o.plan} plan you have used ${o.documentsUsed} of ${o.documentsLimit} documents this period and ${o.storageUsedGb.toFixed(2)} of ${o.storageLimitGb} GB of storage; ${fmt(o.tokenBalance)} tokens are left.`,
  },
  execute: async (_input, ctx) => {
    authorize(atLeast(ctx.role, 'manager'), 'Only managers, admins and owners can see the plan’s usage.');
    const o = await getBillingOverview(ctx.tenantId);
    return {
      plan: o.plan.name,
      status: o.subscription.status,
      periodStart: o.subscription.currentPeriodStart,
      periodEnd: o.subscription.currentPeriodEnd,
      documentsUsed: o.usage.documentsUsed,
      documentsLimit: o.usage.documentsLimit,
      storageUsedGb: o.usage.storageUsedGb,
      storageLimitGb: o.usage.storageLimitGb,
      activeUsers: o.usage.activeUsers,
      maxUsers: o.usage.maxUsers,
      tokenBalance: o.tokens.balance,
      blocked: o.subscription.blocked,
    };
  },
});

export const listPlansTool = defineTool({
  name: 'list_plans',
  title: 'Plans and token packages',
  description: 'The subscription plans on offer (monthly and yearly prices, limits, included tokens) and the token packages that can be bought.',
  inputSchema: z.object({}),
  outputSchema: z.object({
    plans: z.array(z.object({ slug: z.string(), name: z.string(), priceMonthly: z.number(), priceYearly: z.number(), currency: z.string(), maxUsers: z.number(), maxDocumentsPerMonth: z.number(), maxStorageGb: z.number(), includedTokens: z.number() })),
    packages: z.array(z.object({ id: z.string(), name: z.string(), tokens: z.number(), price: z.number(), currency: z.string() })),
  }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(subscription plans|pricing plans|price list|token packages)\b/i, /\b(what|which) plans\b/i, /\bhow much (do|does) (the )?(plans?|tokens) cost\b/i],
    extract: () => ({}),
    describe: (o: { plans: { name: string; priceMonthly: number }[]; packages: { name: string; price: number }[] }) =>
      `Plans: ${o.plans.map((p) => `${p.name} ($${p.priceMonthly}/month)`).join(', ')}. Token packages: ${o.packages.map((p) => `${p.name} ($${p.price})`).join(', ')}.`,
  },
  execute: async () => {
    const [plans, packages] = await Promise.all([listPlans(), listPackages()]);
    return {
      plans: plans.map(({ slug, name, priceMonthly, priceYearly, currency, maxUsers, maxDocumentsPerMonth, maxStorageGb, includedTokens }) => ({ slug, name, priceMonthly, priceYearly, currency, maxUsers, maxDocumentsPerMonth, maxStorageGb, includedTokens })),
      packages: packages.map(({ id, name, tokens, price, currency }) => ({ id, name, tokens, price, currency })),
    };
  },
});

/** "1M", "100k", "5 million", "100,000" → a token count. */
export function parseTokenCount(text: string): number | undefined {
  const m = text.match(/(\d[\d,.]*)\s*(k|thousand|m|mm|million)?\b/i);
  if (!m) return undefined;
  const n = Number(m[1]!.replace(/,/g, ''));
  const unit = m[2]?.toLowerCase();
  const scale = unit === 'k' || unit === 'thousand' ? 1e3 : unit === 'm' || unit === 'mm' || unit === 'million' ? 1e6 : 1;
  const v = Math.round(n * scale);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export const buyTokensTool = defineTool({
  name: 'buy_tokens',
  title: 'Buy tokens',
  description:
    'Start buying a token package: returns a Stripe Checkout link the user opens to pay. Tokens are credited once the payment is confirmed. Pick the package by id or by its token count (see list_plans). Needs the user’s approval; owners and admins only.',
  inputSchema: z
    .object({
      packageId: z.string().uuid().optional().describe('Id of the token package'),
      tokens: z.number().int().positive().optional().describe('Token count of the package, e.g. 1000000'),
    })
    .refine((v) => !!v.packageId || !!v.tokens, { message: 'give packageId or tokens' }),
  outputSchema: z.object({ url: z.string(), sessionId: z.string(), packageName: z.string(), tokens: z.number(), price: z.number(), currency: z.string() }),
  minRole: 'admin',
  readOnly: false,
  destructive: false,
  idempotent: false,
  needsApproval: true,
  intents: {
    patterns: [/\b(buy|purchase|top[ -]?up)\b.*\b(tokens?|credits?)\b/i],
    extract: (text) => {
      const tokens = parseTokenCount(text);
      return tokens ? { tokens } : undefined;
    },
    describe: (o: { url: string; packageName: string; price: number }) => `Here is the checkout link for ${o.packageName} ($${o.price}): ${o.url}`,
  },
  execute: async (input, ctx) => {
    const link = await createTokenCheckout(ctx, input);
    return { url: link.url, sessionId: link.sessionId, packageName: link.package.name, tokens: link.package.tokens, price: link.package.price, currency: link.package.currency };
  },
});

export const billingTools = [getTokenBalanceTool, getUsageTool, listPlansTool, buyTokensTool];
