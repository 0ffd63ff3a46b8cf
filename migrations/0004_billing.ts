// Billing state that Stripe drives (src/billing/):
//  - billing_stripe_event: every webhook event id applied, written in the same transaction as its
//    effect, so a replay (or ten concurrent copies) is a no-op.
//  - billing_stripe_subscription: the last known state of each Stripe subscription of a tenant, with the
//    (event created, event rank) of the event that set it, so an older event never overwrites newer state.
//    The tenant's billing_subscription row is derived from its newest live Stripe subscription.
//  - billing_credit_grant: one row per credit that must happen once (a period's included tokens, a paid
//    token-package checkout), keyed by what makes it unique.
//  - stripe_customer_id unique on billing_subscription: one Stripe customer belongs to one tenant.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  await context.query(String.raw`
CREATE TABLE billing_stripe_event (
    id VARCHAR(255) PRIMARY KEY,
    type VARCHAR(100) NOT NULL,
    tenant_id UUID REFERENCES core_tenant(id) ON DELETE SET NULL,
    event_created TIMESTAMP NOT NULL,
    outcome VARCHAR(50) NOT NULL,
    processed_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_stripe_event_tenant ON billing_stripe_event(tenant_id, processed_at DESC);

CREATE TABLE billing_stripe_subscription (
    id VARCHAR(255) PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    customer_id VARCHAR(255) NOT NULL,
    status VARCHAR(30) NOT NULL,
    price_id VARCHAR(255),
    plan_id UUID REFERENCES billing_plan(id) ON DELETE SET NULL,
    interval subscription_interval,
    stripe_created TIMESTAMP,
    current_period_start TIMESTAMP,
    current_period_end TIMESTAMP,
    trial_end TIMESTAMP,
    cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
    canceled_at TIMESTAMP,
    ended_at TIMESTAMP,
    state_event_id VARCHAR(255) NOT NULL,
    state_event_created BIGINT NOT NULL,
    state_event_rank SMALLINT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_stripe_subscription_tenant ON billing_stripe_subscription(tenant_id, stripe_created DESC);

CREATE TABLE billing_credit_grant (
    grant_key VARCHAR(255) PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    tokens INTEGER NOT NULL,
    transaction_id UUID,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_credit_grant_tenant ON billing_credit_grant(tenant_id, created_at DESC);

CREATE UNIQUE INDEX idx_subscription_stripe_customer ON billing_subscription(stripe_customer_id)
  WHERE stripe_customer_id IS NOT NULL;
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(String.raw`
DROP INDEX IF EXISTS idx_subscription_stripe_customer;
DROP TABLE IF EXISTS billing_credit_grant;
DROP TABLE IF EXISTS billing_stripe_subscription;
DROP TABLE IF EXISTS billing_stripe_event;
`);
};
