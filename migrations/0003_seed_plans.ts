// The four plans of the seed's tiers and the token packages (README "Plans"). Data, not schema:
// down removes only these rows (by slug / name), and only when no subscription points at them.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  await context.query(String.raw`
INSERT INTO billing_plan (name, slug, tier, price_monthly, price_yearly, max_users, max_documents_per_month, max_storage_gb, included_tokens, features)
VALUES
  ('Free',         'free',         'free',         0.00,   0.00,    5,     20,     1,    50000,    '{"mcp": true, "slack": false, "teams": false, "support": "community"}'),
  ('Standard',     'standard',     'standard',     29.00,  290.00,  10,    200,    10,   500000,   '{"mcp": true, "slack": true, "teams": true, "support": "email"}'),
  ('Professional', 'professional', 'professional', 99.00,  990.00,  50,    1000,   100,  2000000,  '{"mcp": true, "slack": true, "teams": true, "support": "priority"}'),
  ('Enterprise',   'enterprise',   'enterprise',   499.00, 4990.00, 1000,  100000, 1000, 10000000, '{"mcp": true, "slack": true, "teams": true, "support": "dedicated", "dedicated_vector_db": true}')
ON CONFLICT (slug) DO NOTHING;
INSERT INTO billing_token_package (name, tokens, price) VALUES
  ('100K tokens', 100000, 5.00),
  ('1M tokens', 1000000, 40.00),
  ('5M tokens', 5000000, 180.00);
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(String.raw`
DELETE FROM billing_token_package WHERE name IN ('100K tokens', '1M tokens', '5M tokens') AND stripe_price_id IS NULL;
DELETE FROM billing_plan p WHERE slug IN ('free', 'standard', 'professional', 'enterprise')
  AND NOT EXISTS (SELECT 1 FROM billing_subscription s WHERE s.plan_id = p.id);
`);
};
