// Extensions of the seed schema the product needs; docs/schema.md says why for each.
//  - pgvector + kb_chunk.embedding (HNSW cosine), kb_chunk.tenant_id, kb_chunk.search_vector (GIN)
//  - agents_conversation, agents_interaction.conversation_id and .embedding (recall across conversations)
//  - auth_session (Lucia-style: SHA-256 of the token) and auth_api_key (hashed, scoped, revocable)
//  - analytics_usage range-partitioned by month on created_at (key (id, created_at)), with a default
//    partition as a safety net; src/db/partitions.ts creates monthly partitions ahead.
import type { Migration } from '../src/db/migrate.js';

export const up: Migration = async ({ context }) => {
  const dim = context.embeddingDimensions;
  await context.query(String.raw`
CREATE EXTENSION IF NOT EXISTS vector;

-- Knowledge base chunks carry their vector, their tenant (retrieval filters without a join) and a
-- generated tsvector for full-text search.
ALTER TABLE kb_chunk ADD COLUMN tenant_id UUID REFERENCES core_tenant(id) ON DELETE CASCADE;
UPDATE kb_chunk c SET tenant_id = d.tenant_id FROM kb_document d WHERE d.id = c.document_id;
ALTER TABLE kb_chunk ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE kb_chunk ADD COLUMN embedding vector(${dim});
ALTER TABLE kb_chunk ADD COLUMN search_vector tsvector
  GENERATED ALWAYS AS (to_tsvector('english', coalesce(content, ''))) STORED;
CREATE INDEX idx_chunk_tenant ON kb_chunk(tenant_id);
CREATE INDEX idx_chunk_embedding_hnsw ON kb_chunk USING hnsw (embedding vector_cosine_ops);
CREATE INDEX idx_chunk_search_vector ON kb_chunk USING GIN (search_vector);

-- Conversations group agent interactions.
CREATE TABLE agents_conversation (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES core_user(id) ON DELETE CASCADE,
    title VARCHAR(255) NOT NULL DEFAULT 'New conversation',
    channel VARCHAR(20) NOT NULL DEFAULT 'web',
    external_id VARCHAR(255),
    metadata JSONB NOT NULL DEFAULT '{}',
    last_message_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_conversation_user ON agents_conversation(tenant_id, user_id, updated_at DESC);
CREATE UNIQUE INDEX idx_conversation_external ON agents_conversation(tenant_id, channel, external_id)
  WHERE external_id IS NOT NULL;

ALTER TABLE agents_interaction ADD COLUMN conversation_id UUID REFERENCES agents_conversation(id) ON DELETE CASCADE;
ALTER TABLE agents_interaction ADD COLUMN embedding vector(${dim});
CREATE INDEX idx_interaction_conversation ON agents_interaction(conversation_id, created_at);
CREATE INDEX idx_interaction_embedding_hnsw ON agents_interaction USING hnsw (embedding vector_cosine_ops);

-- Sessions (Lucia's guide): the client holds a random token, only its SHA-256 (hex) is stored.
CREATE TABLE auth_session (
    id VARCHAR(64) PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES core_user(id) ON DELETE CASCADE,
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_session_user ON auth_session(user_id);
CREATE INDEX idx_session_expires ON auth_session(expires_at);

-- API keys for bots and MCP clients: shown once, stored as SHA-256, scoped and revocable.
CREATE TABLE auth_api_key (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES core_user(id) ON DELETE CASCADE,
    created_by_id UUID REFERENCES core_user(id) ON DELETE SET NULL,
    name VARCHAR(100) NOT NULL,
    prefix VARCHAR(16) NOT NULL,
    key_hash VARCHAR(64) NOT NULL UNIQUE,
    scopes JSONB NOT NULL DEFAULT '[]',
    last_used_at TIMESTAMP,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_api_key_tenant ON auth_api_key(tenant_id, created_at DESC);

-- analytics_usage becomes a monthly range-partitioned table; the primary key must include created_at.
ALTER TABLE analytics_usage RENAME TO analytics_usage_unpartitioned;
ALTER INDEX analytics_usage_pkey RENAME TO analytics_usage_unpartitioned_pkey;
ALTER INDEX idx_usage_tenant_date RENAME TO idx_usage_unpartitioned_tenant_date;
ALTER INDEX idx_usage_activity RENAME TO idx_usage_unpartitioned_activity;
ALTER INDEX idx_usage_user RENAME TO idx_usage_unpartitioned_user;
CREATE TABLE analytics_usage (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    user_id UUID REFERENCES core_user(id) ON DELETE SET NULL,
    activity_type VARCHAR(100) NOT NULL,
    tokens_used INTEGER DEFAULT 0,
    execution_time_seconds FLOAT,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE analytics_usage_default PARTITION OF analytics_usage DEFAULT;
CREATE INDEX idx_usage_tenant_date ON analytics_usage(tenant_id, created_at DESC);
CREATE INDEX idx_usage_activity ON analytics_usage(tenant_id, activity_type, created_at DESC);
CREATE INDEX idx_usage_user ON analytics_usage(user_id, created_at DESC);
INSERT INTO analytics_usage (id, tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, created_at)
  SELECT id, tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, coalesce(created_at, NOW())
  FROM analytics_usage_unpartitioned;
DROP TABLE analytics_usage_unpartitioned;
`);
};

export const down: Migration = async ({ context }) => {
  await context.query(String.raw`
ALTER TABLE analytics_usage RENAME TO analytics_usage_partitioned;
-- Free the primary key's name too, so the plain table gets analytics_usage_pkey back (up renames it).
ALTER INDEX analytics_usage_pkey RENAME TO analytics_usage_partitioned_pkey;
ALTER INDEX idx_usage_tenant_date RENAME TO idx_usage_partitioned_tenant_date;
ALTER INDEX idx_usage_activity RENAME TO idx_usage_partitioned_activity;
ALTER INDEX idx_usage_user RENAME TO idx_usage_partitioned_user;
CREATE TABLE analytics_usage (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES core_tenant(id) ON DELETE CASCADE,
    user_id UUID REFERENCES core_user(id) ON DELETE SET NULL,
    activity_type VARCHAR(100) NOT NULL,
    tokens_used INTEGER DEFAULT 0,
    execution_time_seconds FLOAT,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT NOW()
);
INSERT INTO analytics_usage SELECT id, tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, created_at
  FROM analytics_usage_partitioned;
DROP TABLE analytics_usage_partitioned CASCADE;
CREATE INDEX idx_usage_tenant_date ON analytics_usage(tenant_id, created_at DESC);
CREATE INDEX idx_usage_activity ON analytics_usage(tenant_id, activity_type, created_at DESC);
CREATE INDEX idx_usage_user ON analytics_usage(user_id, created_at DESC);

DROP TABLE auth_api_key;
DROP TABLE auth_session;
DROP INDEX idx_interaction_embedding_hnsw;
DROP INDEX idx_interaction_conversation;
ALTER TABLE agents_interaction DROP COLUMN embedding;
ALTER TABLE agents_interaction DROP COLUMN conversation_id;
DROP TABLE agents_conversation;
DROP INDEX idx_chunk_search_vector;
DROP INDEX idx_chunk_embedding_hnsw;
DROP INDEX idx_chunk_tenant;
ALTER TABLE kb_chunk DROP COLUMN search_vector;
ALTER TABLE kb_chunk DROP COLUMN embedding;
ALTER TABLE kb_chunk DROP COLUMN tenant_id;
`);
};
