// What can be bought: the plans (billing_plan, seeded with the four tiers) and token packages
// (billing_token_package). Only rows with is_active are offered. Each may carry a Stripe price id: in its
// table's columns, or overridden by STRIPE_PRICE_IDS ("standard:monthly=price_…,tokens:1000000=price_…").
// Without a price id, Checkout sends the price inline (price_data) from the row's amount.
import type { Transaction } from 'sequelize';
import { config } from '../config.js';
import { Plan, TokenPackage } from '../db/models/index.js';
import { badRequest, notFound } from '../errors.js';
import { log } from '../log.js';
import { isBillingConfigured } from './stripe-client.js';

export type Interval = 'monthly' | 'yearly';
export const CURRENCY = 'usd';

interface PriceMap {
  plans: Map<string, string>; // "standard:monthly" → price id
  packages: Map<number, string>; // token count → price id
}

let parsed: { raw: string | undefined; map: PriceMap } | undefined;

/** STRIPE_PRICE_IDS, parsed once per value; malformed entries are logged and skipped. */
function priceMap(): PriceMap {
  const raw = config().STRIPE_PRICE_IDS;
  if (parsed && parsed.raw === raw) return parsed.map;
  const map: PriceMap = { plans: new Map(), packages: new Map() };
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = entry.match(/^([a-z0-9_-]+):([a-z0-9]+)=(\S+)$/i);
    if (m && m[1] === 'tokens' && /^\d+$/.test(m[2]!)) map.packages.set(Number(m[2]), m[3]!);
    else if (m && (m[2] === 'monthly' || m[2] === 'yearly')) map.plans.set(`${m[1]}:${m[2]}`, m[3]!);
    else log.warn({ entry }, 'STRIPE_PRICE_IDS: ignoring an entry that is not "<plan>:<monthly|yearly>=<price>" or "tokens:<count>=<price>"');
  }
  parsed = { raw, map };
  return map;
}

export function planPriceId(plan: Plan, interval: Interval): string | null {
  return priceMap().plans.get(`${plan.slug}:${interval}`) ?? (interval === 'monthly' ? plan.stripePriceIdMonthly : plan.stripePriceIdYearly) ?? null;
}

export function packagePriceId(pkg: TokenPackage): string | null {
  return priceMap().packages.get(pkg.tokens) ?? pkg.stripePriceId ?? null;
}

/** "29.00" → 2900, without floating-point rounding. */
export function toCents(amount: string | number): number {
  const [whole, frac = ''] = String(amount).split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}

/** The plan and interval a Stripe price id stands for (STRIPE_PRICE_IDS first, then the plan columns). */
export async function planForPrice(priceId: string, transaction?: Transaction): Promise<{ plan: Plan; interval: Interval } | undefined> {
  for (const [key, id] of priceMap().plans) {
    if (id !== priceId) continue;
    const [slug, interval] = key.split(':') as [string, Interval];
    const plan = await Plan.findOne({ where: { slug }, transaction });
    if (plan) return { plan, interval };
  }
  const plans = await Plan.findAll({ transaction });
  for (const plan of plans) {
    if (plan.stripePriceIdMonthly === priceId) return { plan, interval: 'monthly' };
    if (plan.stripePriceIdYearly === priceId) return { plan, interval: 'yearly' };
  }
  return undefined;
}

export interface PlanView {
  id: string;
  slug: string;
  name: string;
  tier: string;
  currency: string;
  priceMonthly: number;
  priceYearly: number;
  maxUsers: number;
  maxDocumentsPerMonth: number;
  maxStorageGb: number;
  includedTokens: number;
  features: Record<string, unknown>;
  /** Can be subscribed to through Checkout on this server right now. */
  purchasable: boolean;
}

export const presentPlan = (p: Plan): PlanView => ({
  id: p.id,
  slug: p.slug,
  name: p.name,
  tier: p.tier,
  currency: CURRENCY,
  priceMonthly: toCents(p.priceMonthly) / 100,
  priceYearly: toCents(p.priceYearly) / 100,
  maxUsers: p.maxUsers,
  maxDocumentsPerMonth: p.maxDocumentsPerMonth,
  maxStorageGb: p.maxStorageGb,
  includedTokens: p.includedTokens ?? 0,
  features: (p.features as Record<string, unknown>) ?? {},
  purchasable: isBillingConfigured() && p.isActive !== false && toCents(p.priceMonthly) > 0,
});

export interface PackageView {
  id: string;
  name: string;
  tokens: number;
  currency: string;
  price: number;
  purchasable: boolean;
}

export const presentPackage = (p: TokenPackage): PackageView => ({
  id: p.id,
  name: p.name,
  tokens: p.tokens,
  currency: CURRENCY,
  price: toCents(p.price) / 100,
  purchasable: isBillingConfigured() && p.isActive !== false,
});

const priceOrder = (a: Plan, b: Plan) => toCents(a.priceMonthly) - toCents(b.priceMonthly);

export async function listPlans(): Promise<PlanView[]> {
  const plans = await Plan.findAll({ where: { isActive: true } });
  return plans.sort(priceOrder).map(presentPlan);
}

export async function listPackages(): Promise<PackageView[]> {
  const packages = await TokenPackage.findAll({ where: { isActive: true }, order: [['tokens', 'ASC']] });
  return packages.map(presentPackage);
}

/** An active plan by slug, for Checkout. */
export async function activePlan(slug: string): Promise<Plan> {
  const plan = await Plan.findOne({ where: { slug } });
  if (!plan || plan.isActive === false) throw notFound(`The plan "${slug}"`, 'plan_not_found');
  if (toCents(plan.priceMonthly) <= 0 && toCents(plan.priceYearly) <= 0)
    throw badRequest('plan_not_purchasable', `The ${plan.name} plan is free: it needs no checkout. Cancel the paid subscription in the billing portal to return to it.`);
  return plan;
}

/** An active token package by id, or by its token count (what a user or the model usually says). */
export async function activePackage(ref: { packageId?: string; tokens?: number }): Promise<TokenPackage> {
  const pkg = ref.packageId
    ? await TokenPackage.findByPk(ref.packageId)
    : ref.tokens
      ? await TokenPackage.findOne({ where: { tokens: ref.tokens, isActive: true } })
      : null;
  if (!pkg || pkg.isActive === false) {
    const offered = (await listPackages()).map((p) => p.name).join(', ');
    throw notFound(`That token package (offered: ${offered || 'none'})`, 'package_not_found');
  }
  return pkg;
}
