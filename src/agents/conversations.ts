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
import { notFound } from '../errors.js';
import type { Channel } from '../tools/registry.js';

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
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const c = isUuid ? await Conversation.findOne({ where: { id, tenantId: caller.tenantId, userId: caller.userId }, transaction }) : null;
  if (!c) throw notFound('Conversation', 'conversation_not_found');
  return c;
}

/** Find the caller's conversation by our id or a client's own chat id (useChat ids), or create it. */
export async function resolveConversation(
  caller: Caller,
  opts: { id?: string; channel: Channel; firstText: string; externalId?: string },
  transaction: Transaction,
): Promise<{ conversation: Conversation; created: boolean }> {
  if (opts.id) {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(opts.id);
    const byId = isUuid ? await Conversation.findOne({ where: { id: opts.id, tenantId: caller.tenantId }, transaction }) : null;
    if (byId) {
      if (byId.userId !== caller.userId) throw notFound('Conversation', 'conversation_not_found');
      return { conversation: byId, created: false };
    }
  }
  const externalId = opts.externalId ?? (opts.id && !/^[0-9a-f-]{36}$/i.test(opts.id) ? opts.id : undefined);
  if (opts.id && !externalId) throw notFound('Conversation', 'conversation_not_found');
  if (externalId) {
    const byExternal = await Conversation.findOne({ where: { tenantId: caller.tenantId, channel: opts.channel, externalId }, transaction });
    if (byExternal) {
      if (byExternal.userId !== caller.userId) throw notFound('Conversation', 'conversation_not_found');
      return { conversation: byExternal, created: false };
    }
  }
  const conversation = await Conversation.create(
    { tenantId: caller.tenantId, userId: caller.userId, title: titleFrom(opts.firstText), channel: opts.channel, externalId: externalId ?? null },
    { transaction },
  );
  return { conversation, created: true };
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

export function toMessage(row: Interaction): ChatMessage {
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
