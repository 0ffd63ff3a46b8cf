// Conversations and their messages (agents_conversation, agents_interaction). Each message is one
// interaction row of type 'message' whose `data` is the AI SDK UI message (id, role, parts, metadata);
// each tool invocation is also one row of type 'tool_call'. Every query filters on the caller's tenant
// and user.
import type { UIMessage } from 'ai';
import { Op, type Transaction } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { db } from '../db/index.js';
import { Conversation, Interaction } from '../db/models/index.js';
import { ASYNC_COMMIT, sql } from '../db/sql.js';
import { notFound } from '../errors.js';
import { isUuid } from '../ids.js';
import type { Channel } from '../tools/registry.js';
import { toVectorLiteral } from './embeddings.js';
import { turnInProgress } from './turn-hub.js';

type Caller = Pick<AuthContext, 'tenantId' | 'userId'> & Partial<Omit<AuthContext, 'channel'>>;

export interface MessageMetadata {
  status?: 'complete' | 'streaming' | 'aborted' | 'error' | 'awaiting_approval';
  model?: string;
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  error?: { code: string; message: string };
  createdAt?: string;
  clientId?: string;
  [k: string]: unknown;
}
export type ChatMessage = UIMessage<MessageMetadata>;

export const presentConversation = (c: Conversation) => ({
  id: c.id,
  title: c.title,
  channel: c.channel,
  lastMessageAt: c.lastMessageAt,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export function titleFrom(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (!t) return 'New conversation';
  return t.length <= 80 ? t : t.slice(0, 77).replace(/\s+\S*$/, '') + '…';
}

export async function getConversation(caller: Caller, id: string, transaction?: Transaction): Promise<Conversation> {
  const c = isUuid(id) ? await Conversation.findOne({ where: { id, tenantId: caller.tenantId, userId: caller.userId }, transaction }) : null;
  if (!c) throw notFound('Conversation', 'conversation_not_found');
  return c;
}

export async function listConversations(caller: Caller, opts: { limit: number; offset: number }) {
  const { rows, count } = await Conversation.findAndCountAll({
    where: { tenantId: caller.tenantId, userId: caller.userId },
    order: [['updatedAt', 'DESC']],
    limit: opts.limit,
    offset: opts.offset,
  });
  return { conversations: rows.map(presentConversation), total: count };
}

export async function renameConversation(caller: AuthContext, id: string, title: string) {
  return db().transaction(async (transaction) => {
    const c = await getConversation(caller, id, transaction);
    await c.update({ title: title.trim().slice(0, 255) }, { transaction });
    await auditAs(caller, 'conversation.renamed', { type: 'conversation', id }, transaction);
    return presentConversation(c);
  });
}

export async function deleteConversation(caller: AuthContext, id: string) {
  await db().transaction(async (transaction) => {
    const c = await getConversation(caller, id, transaction);
    await c.destroy({ transaction });
    await auditAs(caller, 'conversation.deleted', { type: 'conversation', id }, transaction);
  });
}

/** Messages oldest first; `before` pages backwards by message creation time. */
export async function listMessages(caller: Caller, conversationId: string, opts: { limit: number; before?: Date }) {
  await getConversation(caller, conversationId);
  const rows = await Interaction.findAll({
    where: {
      tenantId: caller.tenantId,
      userId: caller.userId,
      conversationId,
      interactionType: 'message',
      ...(opts.before ? { createdAt: { [Op.lt]: opts.before } } : {}),
    },
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: opts.limit + 1,
  });
  const hasMore = rows.length > opts.limit;
  const page = rows.slice(0, opts.limit).reverse();
  return { messages: page.map(toMessage), hasMore, nextBefore: hasMore ? page[0]!.createdAt : null };
}

export function toMessage(row: Pick<Interaction, 'id' | 'data' | 'createdAt'>): ChatMessage {
  const data = row.data as ChatMessage;
  return { ...data, id: row.id, metadata: { ...(data.metadata ?? {}), createdAt: row.createdAt.toISOString() } };
}

export async function saveMessage(
  caller: Caller,
  conversationId: string,
  message: ChatMessage,
  transaction?: Transaction,
  embedding?: number[],
): Promise<Interaction> {
  const [row] = await Interaction.upsert(
    {
      id: message.id,
      tenantId: caller.tenantId,
      userId: caller.userId,
      conversationId,
      interactionType: 'message',
      data: message,
      ...(embedding ? { embedding } : {}),
    },
    { transaction },
  );
  await Conversation.update({ lastMessageAt: new Date(), updatedAt: new Date() }, { where: { id: conversationId, tenantId: caller.tenantId }, transaction });
  return row;
}

export async function getMessage(caller: Caller, conversationId: string, id: string, transaction?: Transaction) {
  const row = await Interaction.findOne({
    where: { id, tenantId: caller.tenantId, userId: caller.userId, conversationId, interactionType: 'message' },
    transaction,
  });
  return row ? toMessage(row) : null;
}

export const messageText = (m: Pick<UIMessage, 'parts'>) =>
  m.parts
    .filter((p): p is { type: 'text'; text: string } => p.type === 'text')
    .map((p) => p.text)
    .join('\n')
    .trim();

// ---- the turn's hot path: plain SQL, few round trips (see src/db/sql.ts) --------------------------------

export interface TurnContext {
  balance: number;
  tenantName: string;
  user: { firstName: string | null; timezone: string | null; language: string | null };
  preferences: { key: string; value: unknown }[];
  /** The caller's conversation this turn continues, or the one to create. */
  conversation: { id: string; created: boolean; title: string; externalId: string | null };
}

/**
 * Everything a new turn needs before it can call the model, in ONE query: the tenant's balance, names
 * for the prompt, the user's preferences, and the conversation named by our id or the client's own id
 * (`externalId`, or a non-uuid `id` such as useChat's). A conversation of another user or tenant is
 * "not found"; an unknown external id makes a new conversation.
 */
export async function loadTurnContext(
  caller: Caller,
  opts: { id?: string; channel: Channel; firstText: string; externalId?: string },
): Promise<TurnContext> {
  const byUuid = opts.id && isUuid(opts.id) ? opts.id : null;
  const externalId = opts.externalId ?? (opts.id && !/^[0-9a-f-]{36}$/i.test(opts.id) ? opts.id : undefined);
  if (opts.id && !byUuid && !externalId) throw notFound('Conversation', 'conversation_not_found');
  type Ref = { id: string; userId: string; title: string; externalId: string | null } | null;
  const [row] = await sql<{
    tenant_name: string;
    first_name: string | null;
    timezone: string | null;
    language: string | null;
    balance: number;
    preferences: { key: string; value: unknown }[];
    by_id: Ref;
    by_external: Ref;
  }>(
    `SELECT t.name AS tenant_name, u.first_name, u.timezone, u.language,
            COALESCE((SELECT b.balance FROM billing_token_balance b WHERE b.tenant_id = t.id), 0) AS balance,
            COALESCE((SELECT json_agg(json_build_object('key', p.key, 'value', p.value) ORDER BY p.key)
                        FROM agents_preference p WHERE p.tenant_id = t.id AND p.user_id = u.id), '[]'::json) AS preferences,
            (SELECT json_build_object('id', c.id, 'userId', c.user_id, 'title', c.title, 'externalId', c.external_id)
               FROM agents_conversation c WHERE c.tenant_id = t.id AND c.id = $3::uuid) AS by_id,
            (SELECT json_build_object('id', c.id, 'userId', c.user_id, 'title', c.title, 'externalId', c.external_id)
               FROM agents_conversation c WHERE c.tenant_id = t.id AND c.channel = $4 AND c.external_id = $5) AS by_external
       FROM core_tenant t JOIN core_user u ON u.tenant_id = t.id AND u.id = $2
      WHERE t.id = $1`,
    [caller.tenantId, caller.userId, byUuid, opts.channel, externalId ?? null],
  );
  if (!row) throw notFound('User', 'user_not_found');
  const found = row.by_id ?? (externalId ? row.by_external : null);
  if (found && found.userId !== caller.userId) throw notFound('Conversation', 'conversation_not_found');
  if (!found && byUuid && !externalId) throw notFound('Conversation', 'conversation_not_found');
  return {
    balance: row.balance,
    tenantName: row.tenant_name,
    user: { firstName: row.first_name, timezone: row.timezone, language: row.language },
    preferences: row.preferences,
    conversation: found
      ? { id: found.id, created: false, title: found.title, externalId: found.externalId }
      : { id: crypto.randomUUID(), created: true, title: titleFrom(opts.firstText), externalId: externalId ?? null },
  };
}

/**
 * Store the user's message (and create its conversation when new) in one statement and one round trip.
 * Its commit does not wait for the WAL flush (ASYNC_COMMIT): the row is durable within the WAL writer's
 * delay, and the turn's end (usage and ledger) commits synchronously after it.
 */
export async function storeUserMessage(caller: Caller, channel: Channel, conversation: TurnContext['conversation'], message: ChatMessage): Promise<void> {
  const rows = await sql(
    `WITH conv AS (
       INSERT INTO agents_conversation (id, tenant_id, user_id, title, channel, external_id, last_message_at)
       SELECT $3::uuid, $1::uuid, $2::uuid, $4::text, $5::text, $6::text, NOW() WHERE $7::boolean
       RETURNING id),
     touched AS (
       UPDATE agents_conversation SET last_message_at = NOW(), updated_at = NOW()
        WHERE id = $3::uuid AND tenant_id = $1::uuid AND user_id = $2::uuid AND NOT $7::boolean
       RETURNING id),
     message AS (
       INSERT INTO agents_interaction (id, tenant_id, user_id, conversation_id, interaction_type, data, created_at)
       SELECT $8::uuid, $1::uuid, $2::uuid, $3::uuid, 'message', $9::jsonb, NOW()
        WHERE EXISTS (SELECT 1 FROM conv) OR EXISTS (SELECT 1 FROM touched)
       RETURNING id)
     SELECT id, ${ASYNC_COMMIT} FROM message`,
    [
      caller.tenantId,
      caller.userId,
      conversation.id,
      conversation.title,
      channel,
      conversation.externalId,
      conversation.created,
      message.id,
      JSON.stringify(message),
    ],
  ).catch((err: { code?: string; constraint?: string }) => {
    // Two first messages racing to create the same client-named conversation: the second one loses.
    if (err.code === '23505' && err.constraint === 'idx_conversation_external') throw turnInProgress();
    throw err;
  });
  if (rows.length === 0) throw notFound('Conversation', 'conversation_not_found'); // deleted meanwhile
}

export interface ToolCallRow {
  messageId: string;
  toolName: string;
  toolCallId: string;
  state: string;
  input?: unknown;
  output?: unknown;
  errorText?: string;
}

/**
 * The turn's stored outcome in one statement, inside the caller's transaction (the one that also
 * debits the ledger): the assistant message (a continuation rewrites its row), one tool_call row per
 * tool invocation (replacing the message's earlier ones), the user message's embedding, the
 * conversation's last activity, and the turn's analytics_usage row.
 */
export async function storeTurnEnd(
  caller: Caller,
  args: {
    conversationId: string;
    message: ChatMessage;
    embedding?: number[];
    userMessageId?: string;
    userEmbedding?: number[];
    toolCalls: ToolCallRow[];
    usage: { activityType: string; tokensUsed: number; executionTimeSeconds: number; metadata: Record<string, unknown> };
  },
  transaction: Transaction,
): Promise<void> {
  await sql(
    `WITH user_embedding AS (
       UPDATE agents_interaction SET embedding = $7::vector
        WHERE $7::text IS NOT NULL AND id = $6 AND tenant_id = $1 AND user_id = $2),
     message AS (
       INSERT INTO agents_interaction AS i (id, tenant_id, user_id, conversation_id, interaction_type, data, embedding, created_at)
       VALUES ($4, $1, $2, $3, 'message', $5::jsonb, $8::vector, NOW())
       ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, embedding = COALESCE(EXCLUDED.embedding, i.embedding)
        WHERE i.tenant_id = EXCLUDED.tenant_id AND i.user_id = EXCLUDED.user_id),
     conversation AS (
       UPDATE agents_conversation SET last_message_at = NOW(), updated_at = NOW() WHERE id = $3 AND tenant_id = $1),
     old_tools AS (
       DELETE FROM agents_interaction
        WHERE tenant_id = $1 AND conversation_id = $3 AND interaction_type = 'tool_call' AND data->>'messageId' = $4::text),
     new_tools AS (
       INSERT INTO agents_interaction (tenant_id, user_id, conversation_id, interaction_type, data, created_at)
       SELECT $1, $2, $3, 'tool_call', d, NOW() FROM jsonb_array_elements($9::jsonb) AS d)
     INSERT INTO analytics_usage (tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, metadata, created_at)
     VALUES ($1, $2, $10, $11, $12, $13::jsonb, NOW())`,
    [
      caller.tenantId,
      caller.userId,
      args.conversationId,
      args.message.id,
      JSON.stringify(args.message),
      args.userMessageId ?? null,
      args.userEmbedding ? toVectorLiteral(args.userEmbedding) : null,
      args.embedding ? toVectorLiteral(args.embedding) : null,
      JSON.stringify(args.toolCalls),
      args.usage.activityType,
      args.usage.tokensUsed,
      args.usage.executionTimeSeconds,
      JSON.stringify(args.usage.metadata),
    ],
    transaction,
  );
}
