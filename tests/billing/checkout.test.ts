// Billing through the REST API and the tools, against the fake Stripe server: plans and packages (only
// active ones), Checkout for plans and token packages (configured price ids or inline prices), the portal,
// who may do what, billing switched off, Stripe failing, and one team never reaching another's billing.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/db/index.js';
import { toolsFor } from '../../src/tools/index.js';
import type { ToolContext, ToolDefinition } from '../../src/tools/registry.js';
import { call, signupTeam } from '../support/harness.js';
import { addDays, addMember, balanceOf, billingOff, billingOn, checkoutSessionObject, deliver, event, one, PRICES, rid, rows, subscriptionObject, subscriptionOf, useBillingApp } from './support.js';

const t = useBillingApp();

const ctxOf = (team: { tenantId: string; userId: string }, role: ToolContext['role'] = 'owner'): ToolContext => ({ tenantId: team.tenantId, userId: team.userId, role, channel: 'web' });
const tool = (name: string): ToolDefinition<any, any> => toolsFor({ role: 'owner' }).find((x) => x.name === name)!;

describe('plans and packages', () => {
  it('lists the active plans (cheapest first) and packages to any member; inactive ones are neither listed nor sold', async () => {
    const team = await signupTeam();
    const viewer = await addMember(team, 'viewer');
    const slug = `legacy-${Date.now().toString(36)}`;
    await db().query(
      `INSERT INTO billing_plan (name, slug, tier, price_monthly, price_yearly, max_users, max_documents_per_month, max_storage_gb, included_tokens, is_active)
       VALUES ('Legacy', :slug, 'standard', 19.00, 190.00, 3, 50, 5, 1000, FALSE)`,
      { replacements: { slug } },
    );
    try {
      const plans = await call('GET', '/api/billing/plans', { token: viewer.token });
      expect(plans.status).toBe(200);
      const slugs = plans.body.plans.map((p: any) => p.slug);
      expect(slugs.slice(0, 4)).toEqual(['free', 'standard', 'professional', 'enterprise']);
      expect(slugs).not.toContain(slug);
      expect(plans.body.plans[1]).toMatchObject({ priceMonthly: 29, priceYearly: 290, maxUsers: 10, maxDocumentsPerMonth: 200, maxStorageGb: 10, includedTokens: 500000, purchasable: true, currency: 'usd' });
      expect(plans.body.plans[0].purchasable).toBe(false);

      const packages = await call('GET', '/api/billing/packages', { token: viewer.token });
      expect(packages.body.packages.map((p: any) => p.tokens).slice(0, 3)).toEqual([100000, 1000000, 5000000]);

      const legacy = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: slug } });
      expect(legacy.status).toBe(404);
      expect(legacy.body.error.code).toBe('plan_not_found');
    } finally {
      await db().query(`DELETE FROM billing_plan WHERE slug = :slug`, { replacements: { slug } });
    }
  });
});

describe('Checkout and the portal', () => {
  it('creates one Stripe customer per team and a subscription Checkout with the configured price', async () => {
    const team = await signupTeam();
    const customersBefore = t.fake.customers.size;
    const res = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard', interval: 'yearly' } });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const session = t.fake.checkoutSessions.get(res.body.sessionId)!;
    const customer = (await subscriptionOf(team.tenantId)).stripe_customer_id!;
    expect(customer).toMatch(/^cus_/);
    expect(session).toMatchObject({ mode: 'subscription', customer, client_reference_id: team.tenantId, metadata: { tenantId: team.tenantId, plan: 'standard', interval: 'yearly' } });
    expect(session.line_items[0]).toEqual({ price: PRICES.standardYearly, quantity: '1' });
    expect(session.subscription_data.metadata).toEqual({ tenantId: team.tenantId, plan: 'standard', interval: 'yearly' });
    expect(t.fake.customers.get(customer)!.metadata.tenantId).toBe(team.tenantId);

    // Without a configured price id the plan's price goes inline; the customer is reused.
    const inline = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'professional', interval: 'yearly' } });
    expect(inline.status).toBe(201);
    expect(t.fake.checkoutSessions.get(inline.body.sessionId)!.line_items[0].price_data).toMatchObject({ currency: 'usd', unit_amount: '99000', recurring: { interval: 'year' } });
    expect(t.fake.customers.size).toBe(customersBefore + 1);
    expect(await rows(`SELECT 1 FROM audit_log WHERE tenant_id = :id AND action = 'billing.checkout_started'`, { id: team.tenantId })).toHaveLength(2);

    const free = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'free' } });
    expect(free.status).toBe(400);
    expect(free.body.error.code).toBe('plan_not_purchasable');
    const badInterval = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard', interval: 'weekly' } });
    expect(badInterval.status).toBe(400);
    expect(badInterval.body.error.code).toBe('validation_error');
  });

  it('refuses a Checkout for the plan and interval the team already pays for (409 already_subscribed)', async () => {
    const team = await signupTeam();
    const first = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard' } });
    const customer = t.fake.checkoutSessions.get(first.body.sessionId)!.customer;
    const now = new Date();
    await deliver(event('customer.subscription.created', subscriptionObject({ id: rid('sub'), customer, status: 'active', price: PRICES.standardMonthly, periodStart: now, periodEnd: addDays(now, 30) })));
    const again = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard', interval: 'monthly' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_subscribed');
    // Another interval or plan is a change, which Checkout handles.
    expect((await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard', interval: 'yearly' } })).status).toBe(201);
    expect((await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'professional' } })).status).toBe(201);
  });

  it('concurrent first checkouts still make one customer (idempotency key)', async () => {
    const team = await signupTeam();
    const results = await Promise.all(Array.from({ length: 4 }, () => call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard' } })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const customers = new Set(results.map((r) => t.fake.checkoutSessions.get(r.body.sessionId)!.customer));
    expect(customers.size).toBe(1);
    expect((await subscriptionOf(team.tenantId)).stripe_customer_id).toBe([...customers][0]);
  });

  it('sells a token package through Checkout and credits it when Stripe confirms', async () => {
    const team = await signupTeam();
    const before = (await balanceOf(team.tenantId)).balance;
    const res = await call('POST', '/api/billing/checkout/tokens', { token: team.token, json: { tokens: 1_000_000 } });
    expect(res.status).toBe(201);
    expect(res.body.package).toMatchObject({ tokens: 1000000, price: 40, currency: 'usd' });
    const session = t.fake.checkoutSessions.get(res.body.sessionId)!;
    expect(session).toMatchObject({ mode: 'payment', metadata: { kind: 'token_package', tokens: '1000000', tenantId: team.tenantId } });
    expect(session.line_items[0].price).toBe(PRICES.tokens1m);

    const small = await one<{ id: string }>(`SELECT id FROM billing_token_package WHERE tokens = 100000 AND is_active`);
    const byId = await call('POST', '/api/billing/checkout/tokens', { token: team.token, json: { packageId: small.id } });
    expect(t.fake.checkoutSessions.get(byId.body.sessionId)!.line_items[0].price_data).toMatchObject({ unit_amount: '500', currency: 'usd' });

    expect((await call('POST', '/api/billing/checkout/tokens', { token: team.token, json: { tokens: 123 } })).body.error.code).toBe('package_not_found');
    expect((await call('POST', '/api/billing/checkout/tokens', { token: team.token, json: {} })).body.error.code).toBe('validation_error');

    // Stripe reports the payment: the webhook credits exactly the package.
    const completed = checkoutSessionObject({ id: session.id, mode: 'payment', customer: session.customer, tenantId: team.tenantId, metadata: session.metadata });
    expect((await deliver(event('checkout.session.completed', completed))).body.outcome).toBe('credited');
    expect((await balanceOf(team.tenantId)).balance).toBe(before + 1_000_000);
  });

  it('opens the customer portal for the team’s customer', async () => {
    const team = await signupTeam();
    const res = await call('POST', '/api/billing/portal', { token: team.token });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    const portal = [...t.fake.portalSessions.values()].at(-1)!;
    expect(portal.customer).toBe((await subscriptionOf(team.tenantId)).stripe_customer_id);
    expect(portal.return_url).toMatch(/\/billing\?checkout=portal$/);
  });

  it('answers 502 with a clear code when Stripe fails, and changes nothing', async () => {
    const team = await signupTeam();
    t.fake.fail({ match: /POST \/v1\/customers/, status: 500, message: 'Stripe is down' });
    try {
      const res = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard' } });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('payment_provider_unavailable');
      expect(res.body.error.message).toMatch(/not reachable/);
      expect((await subscriptionOf(team.tenantId)).stripe_customer_id).toBeNull();
    } finally {
      t.fake.clearFailures();
    }

    t.fake.fail({ match: /POST \/v1\/checkout\/sessions/, status: 503 });
    try {
      const res = await call('POST', '/api/billing/checkout/tokens', { token: team.token, json: { tokens: 100_000 } });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('payment_provider_unavailable');
    } finally {
      t.fake.clearFailures();
    }

    t.fake.fail({ match: /POST \/v1\/checkout\/sessions/, status: 400, type: 'invalid_request_error', message: 'No such price' });
    try {
      const res = await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard' } });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('payment_provider_rejected');
    } finally {
      t.fake.clearFailures();
    }

    t.fake.fail({ match: /POST \/v1\/billing_portal/, status: 0, dropConnection: true });
    try {
      const res = await call('POST', '/api/billing/portal', { token: team.token });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('payment_provider_unavailable');
    } finally {
      t.fake.clearFailures();
    }
    expect(await rows(`SELECT action FROM audit_log WHERE tenant_id = :id AND action LIKE 'billing.%'`, { id: team.tenantId })).toEqual([]);
    expect((await call('POST', '/api/billing/checkout', { token: team.token, json: { plan: 'standard' } })).status).toBe(201);
  });

  it('answers billing_not_configured for paid routes without Stripe keys; the free plan keeps working', async () => {
    const team = await signupTeam();
    billingOff();
    try {
      for (const [path, json] of [
        ['/api/billing/checkout', { plan: 'standard' }],
        ['/api/billing/checkout/tokens', { tokens: 100_000 }],
        ['/api/billing/portal', undefined],
      ] as const) {
        const res = await call('POST', path, { token: team.token, json });
        expect(res.status, path).toBe(503);
        expect(res.body.error.code).toBe('billing_not_configured');
        expect(res.body.error.message).toMatch(/STRIPE_SECRET_KEY/);
      }
      const plans = await call('GET', '/api/billing/plans', { token: team.token });
      expect(plans.body.plans.every((p: any) => p.purchasable === false)).toBe(true);
      const sub = await call('GET', '/api/billing/subscription', { token: team.token });
      expect(sub.status).toBe(200);
      expect(sub.body).toMatchObject({ plan: { slug: 'free' }, subscription: { status: 'trialing', managedByStripe: false }, billingConfigured: false });
      expect(sub.body.tokens.balance).toBe(50000);
      const buy = await tool('buy_tokens').execute({ tokens: 100_000 }, ctxOf(team)).catch((e) => e);
      expect(buy.code).toBe('billing_not_configured');
    } finally {
      billingOn(t.fake);
    }
  });
});

describe('who may do what', () => {
  it('members, viewers and managers cannot reach billing changes; managers may read the subscription and ledger', async () => {
    const team = await signupTeam();
    const manager = await addMember(team, 'manager');
    const member = await addMember(team, 'member');
    const viewer = await addMember(team, 'viewer');
    const sessionsBefore = t.fake.checkoutSessions.size;
    for (const who of [manager, member, viewer]) {
      for (const [method, path, json] of [
        ['POST', '/api/billing/checkout', { plan: 'standard' }],
        ['POST', '/api/billing/checkout/tokens', { tokens: 100_000 }],
        ['POST', '/api/billing/portal', undefined],
        ['PATCH', '/api/billing/balance', { lowBalanceThreshold: 5 }],
      ] as const) {
        const res = await call(method, path, { token: who.token, json });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    }
    for (const who of [member, viewer]) {
      expect((await call('GET', '/api/billing/subscription', { token: who.token })).status).toBe(403);
      expect((await call('GET', '/api/billing/transactions', { token: who.token })).status).toBe(403);
      expect((await call('GET', '/api/billing/balance', { token: who.token })).status).toBe(200);
    }
    expect((await call('GET', '/api/billing/subscription', { token: manager.token })).status).toBe(200);
    expect((await call('GET', '/api/billing/transactions', { token: manager.token })).status).toBe(200);
    expect(t.fake.checkoutSessions.size).toBe(sessionsBefore);
    expect((await subscriptionOf(team.tenantId)).stripe_customer_id).toBeNull();

    // An admin's API key without the admin scope cannot buy either.
    const admin = await addMember(team, 'admin');
    const key = await call('POST', '/api/api-keys', { token: admin.token, json: { name: 'bot', scopes: ['read', 'write', 'chat'] } });
    expect(key.status).toBe(201);
    expect((await call('POST', '/api/billing/checkout', { token: key.body.key, json: { plan: 'standard' } })).status).toBe(403);
    expect((await call('POST', '/api/billing/checkout', { token: admin.token, json: { plan: 'standard' } })).status).toBe(201);
  });

  it('requires sign-in everywhere but the webhook', async () => {
    for (const path of ['/api/billing/plans', '/api/billing/subscription', '/api/billing/balance', '/api/billing/transactions', '/api/analytics/usage', '/api/audit'])
      expect((await call('GET', path)).status, path).toBe(401);
    expect((await call('POST', '/api/billing/checkout', { json: { plan: 'standard' } })).status).toBe(401);
  });

  it('keeps each team’s ledger, subscription and customer to itself', async () => {
    const a = await signupTeam();
    const b = await signupTeam();
    await call('POST', '/api/billing/checkout', { token: a.token, json: { plan: 'standard' } });
    await call('POST', '/api/billing/checkout', { token: b.token, json: { plan: 'standard' } });
    const [ca, cb] = [(await subscriptionOf(a.tenantId)).stripe_customer_id, (await subscriptionOf(b.tenantId)).stripe_customer_id];
    expect(ca).not.toBe(cb);
    const txA = await call('GET', '/api/billing/transactions', { token: a.token });
    expect(txA.body.total).toBe(1);
    const idsB = (await rows<{ id: string }>(`SELECT id FROM billing_token_transaction WHERE tenant_id = :id`, { id: b.tenantId })).map((r) => r.id);
    expect(txA.body.transactions.some((tx: any) => idsB.includes(tx.id))).toBe(false);
    // A's admin cannot aim B's subscription through the tool's input: tenant comes from the caller.
    const link = await tool('buy_tokens').execute({ tokens: 100_000 }, ctxOf(a));
    expect(t.fake.checkoutSessions.get(link.sessionId)!.customer).toBe(ca);
  });
});

describe('balance, ledger and alert settings', () => {
  it('shows the balance to everyone, the ledger to managers+, and lets admins set the alert threshold', async () => {
    const team = await signupTeam();
    const viewer = await addMember(team, 'viewer');
    const bal = await call('GET', '/api/billing/balance', { token: viewer.token });
    expect(bal.body).toEqual({ balance: 50000, lifetimePurchased: 0, lifetimeUsed: 0, lowBalanceThreshold: 1000, lowBalanceAlertSent: false });
    const tx = await call('GET', '/api/billing/transactions', { token: team.token });
    expect(tx.body.transactions).toHaveLength(1);
    expect(tx.body.transactions[0]).toMatchObject({ amount: 50000, operation: 'included_tokens', balanceAfter: 50000 });
    expect((await call('GET', '/api/billing/transactions?operation=token_purchase', { token: team.token })).body.total).toBe(0);

    const set = await call('PATCH', '/api/billing/balance', { token: team.token, json: { lowBalanceThreshold: 60_000 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ lowBalanceThreshold: 60000, lowBalanceAlertSent: true });
    expect((await call('PATCH', '/api/billing/balance', { token: team.token, json: { lowBalanceThreshold: -1 } })).status).toBe(400);
    const audit = await rows(`SELECT details FROM audit_log WHERE tenant_id = :id AND action = 'billing.alert_threshold_changed'`, { id: team.tenantId });
    expect(audit[0].details).toEqual({ threshold: 60000 });
  });
});

describe('billing tools', () => {
  it('offers buy_tokens (with approval) to admins only; read tools to everyone', async () => {
    const names = (role: ToolContext['role']) => toolsFor({ role }).map((x) => x.name);
    expect(names('viewer')).toEqual(expect.arrayContaining(['get_token_balance', 'list_plans']));
    expect(names('viewer')).not.toContain('buy_tokens');
    expect(names('member')).not.toContain('get_usage');
    expect(names('manager')).toContain('get_usage');
    expect(names('admin')).toContain('buy_tokens');
    expect(tool('buy_tokens')).toMatchObject({ needsApproval: true, minRole: 'admin', readOnly: false });
    for (const n of ['get_token_balance', 'get_usage', 'list_plans']) expect(tool(n)).toMatchObject({ readOnly: true, needsApproval: false });
    expect(toolsFor({ role: 'admin', scopes: ['read'] }).map((x) => x.name)).not.toContain('buy_tokens');
  });

  it('runs with the caller’s tenant: balance, usage, plans, and a Checkout link', async () => {
    const team = await signupTeam();
    expect(await tool('get_token_balance').execute({}, ctxOf(team))).toMatchObject({ balance: 50000 });
    const usage = await tool('get_usage').execute({}, ctxOf(team));
    expect(usage).toMatchObject({ plan: 'Free', documentsUsed: 0, documentsLimit: 20, storageLimitGb: 1, maxUsers: 5, activeUsers: 1, tokenBalance: 50000, blocked: [] });
    const plans = await tool('list_plans').execute({}, ctxOf(team));
    expect(plans.plans.map((p: any) => p.slug)).toEqual(['free', 'standard', 'professional', 'enterprise']);
    const link = await tool('buy_tokens').execute(tool('buy_tokens').inputSchema.parse({ tokens: 1_000_000 }), ctxOf(team));
    expect(link).toMatchObject({ tokens: 1000000, price: 40, currency: 'usd' });
    expect(link.url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    // A member reaching the tool anyway (e.g. over a stale tool list) is refused by the command.
    await expect(tool('buy_tokens').execute({ tokens: 1_000_000 }, ctxOf(team, 'member'))).rejects.toMatchObject({ code: 'forbidden' });
    // The offline model's intents.
    expect(tool('buy_tokens').intents.extract!('please buy 1M tokens')).toEqual({ tokens: 1_000_000 });
    expect(tool('buy_tokens').intents.extract!('top up 100k tokens')).toEqual({ tokens: 100_000 });
  });
});

describe('the OpenAPI document', () => {
  it('describes the billing, analytics and audit routes', async () => {
    const doc = await call('GET', '/api/openapi.json');
    for (const p of ['/api/billing/plans', '/api/billing/packages', '/api/billing/subscription', '/api/billing/checkout', '/api/billing/checkout/tokens', '/api/billing/portal', '/api/billing/balance', '/api/billing/transactions', '/api/billing/webhook', '/api/analytics/usage', '/api/audit'])
      expect(doc.body.paths[p], p).toBeDefined();
    expect(doc.body.paths['/api/billing/webhook'].post.security).toEqual([]);
  });
});
