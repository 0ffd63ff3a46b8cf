// Slack and Microsoft Teams channels (src/channels/slack, src/channels/teams).
//  - channels_slack_installation: one row per Slack workspace that installed the app (OAuth v2), owned by
//    one tenant. The bot token is stored AES-256-GCM encrypted (src/channels/shared/secret-box.ts), never in
//    clear. A workspace maps to exactly one tenant (unique team_id): events name the workspace, not us.
//  - channels_teams_registration: an Entra (AAD) tenant id mapped to one of our tenants by its admin.
//  - channels_processed_event: ids of Slack events and Teams activities already taken, so a retry or a
//    duplicate delivery never starts a second turn (or a second charge). Pruned after a few days.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  await context.query(`
CREATE TABLE channels_slack_installation (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    team_id VARCHAR(32) NOT NULL,
    team_name VARCHAR(255),
    enterprise_id VARCHAR(32),
    app_id VARCHAR(32),
    bot_user_id VARCHAR(32) NOT NULL,
    bot_token_encrypted TEXT NOT NULL,
    scopes JSONB NOT NULL DEFAULT '[]',
    installed_by_id UUID REFERENCES core_user(id) ON DELETE SET NULL,
    installer_slack_user_id VARCHAR(32),
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX idx_slack_installation_team ON channels_slack_installation(team_id);
CREATE INDEX idx_slack_installation_tenant ON channels_slack_installation(tenant_id);

CREATE TABLE channels_teams_registration (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    entra_tenant_id VARCHAR(64) NOT NULL,
    created_by_id UUID REFERENCES core_user(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX idx_teams_registration_entra ON channels_teams_registration(entra_tenant_id);
CREATE INDEX idx_teams_registration_tenant ON channels_teams_registration(tenant_id);

CREATE TABLE channels_processed_event (
    channel VARCHAR(20) NOT NULL,
    event_id VARCHAR(512) NOT NULL,
    tenant_id UUID REFERENCES core_tenant(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    PRIMARY KEY (channel, event_id)
);
CREATE INDEX idx_processed_event_created ON channels_processed_event(created_at);
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(`
DROP TABLE IF EXISTS channels_processed_event;
DROP TABLE IF EXISTS channels_teams_registration;
DROP TABLE IF EXISTS channels_slack_installation;
`);
};
