// The embeddable web widget (src/channels/widget/):
//  - channels_widget_settings: per tenant, the page origins the widget may run on and whether an unknown
//    email gets a member account on first use (POST /api/widget/token).
//  - channels_widget_token: the short-lived tokens a tenant's server mints for its users; like sessions,
//    only the SHA-256 of the token is stored. Tied to the API key that minted it (revoking the key ends them).
// agents_conversation.channel (0002) already records 'widget'.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  await context.query(String.raw`
CREATE TABLE channels_widget_settings (
    tenant_id UUID PRIMARY KEY REFERENCES core_tenant(id) ON DELETE CASCADE,
    allowed_origins JSONB NOT NULL DEFAULT '[]',
    auto_create_users BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
-- "Is this origin allowed by any tenant?" answers CORS preflights, which carry no credentials.
CREATE INDEX idx_widget_settings_origins ON channels_widget_settings USING GIN (allowed_origins jsonb_path_ops);

CREATE TABLE channels_widget_token (
    id VARCHAR(64) PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES core_user(id) ON DELETE CASCADE,
    api_key_id UUID REFERENCES auth_api_key(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_widget_token_user ON channels_widget_token(tenant_id, user_id);
CREATE INDEX idx_widget_token_expires ON channels_widget_token(expires_at);
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(`
DROP TABLE IF EXISTS channels_widget_token;
DROP TABLE IF EXISTS channels_widget_settings;
`);
};
