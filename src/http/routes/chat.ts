// Chat over HTTP, speaking the AI SDK UI message stream protocol so `useChat` works unchanged:
//   POST /api/chat                         start a turn (or answer a tool approval) and stream it
//   GET  /api/chat/{conversationId}/stream re-attach to the turn in flight (204 when none)
//   POST /api/chat/{conversationId}/abort  stop it (the partial reply is kept, marked aborted)
// The turn outlives the HTTP request: a dropped connection loses nothing.
import { createRoute } from '@hono/zod-openapi';
import { UI_MESSAGE_STREAM_HEADERS, type UIMessage } from 'ai';
import type { Context } from 'hono';
import type { Socket as NetSocket } from 'node:net';
import { config } from '../../config.js';
import { Op } from 'sequelize';
import { messageText } from '../../agents/conversations.js';
import { abortTurn, startTurn, type ApprovalAnswer } from '../../agents/turn.js';
import { turnHub } from '../../agents/turn-hub.js';
import { Conversation } from '../../db/models/index.js';
import { badRequest, notFound } from '../../errors.js';
import { isUuid } from '../../ids.js';
import { requireAuth } from '../middleware.js';
import { ErrorSchema, jsonRoute, router, z } from '../openapi.js';

const UiMessage = z.object({ id: z.string().max(200).optional(), role: z.enum(['user', 'assistant', 'system']), parts: z.array(z.any()).max(500), metadata: z.any().optional() });

export const ChatBody = z
  .object({
    id: z.string().min(1).max(200).optional().describe('Conversation id: ours, or the client’s own chat id (useChat)'),
    conversationId: z.string().min(1).max(200).optional(),
    messages: z.array(UiMessage).max(1000).optional().describe('useChat sends the whole list; only the last message is read'),
    message: z.string().max(1_000_000).optional().describe('Plain-text alternative to messages'),
    trigger: z.string().max(50).optional(),
    messageId: z.string().max(200).optional(),
  })
  .passthrough()
  .openapi('ChatBody');

function approvalsOf(m: z.infer<typeof UiMessage>): ApprovalAnswer[] {
  const out: ApprovalAnswer[] = [];
  for (const p of m.parts) {
    const a = p?.approval;
    if (p?.state === 'approval-responded' && a && typeof a.id === 'string' && typeof a.approved === 'boolean')
      out.push({ approvalId: a.id, approved: a.approved, ...(typeof a.reason === 'string' ? { reason: a.reason.slice(0, 500) } : {}) });
  }
  return out;
}

async function findConversationId(auth: { tenantId: string; userId: string }, id: string): Promise<string> {
  const c = await Conversation.findOne({
    where: { tenantId: auth.tenantId, userId: auth.userId, ...(isUuid(id) ? { [Op.or]: [{ id }, { externalId: id }] } : { externalId: id }) },
  });
  if (!c) throw notFound('Conversation', 'conversation_not_found');
  return c.id;
}

/** The turn's UI message stream as server-sent events (what createUIMessageStreamResponse sends). */
function sseResponse(c: Context, conversationId: string, headers: Record<string, string> = {}) {
  // Under Node, the response's TCP socket, so consecutive deltas leave it together.
  const socket = (c.env as { outgoing?: { socket?: NetSocket | null } } | undefined)?.outgoing?.socket;
  return new Response(turnHub().sse(conversationId, 0, { socket, coalesceMs: config().STREAM_COALESCE_MS }), {
    status: 200,
    headers: { ...UI_MESSAGE_STREAM_HEADERS, 'x-conversation-id': conversationId, ...headers },
  });
}

const chatRoute = createRoute({
  method: 'post',
  path: '/api/chat',
  tags: ['chat'],
  summary: 'Send a message (or tool approvals) and stream the reply (AI SDK UI message stream, SSE)',
  security: [{ bearer: [] }],
  request: { body: { content: { 'application/json': { schema: ChatBody } }, required: true } },
  responses: {
    200: { description: 'Server-sent events, one UI message chunk each; header x-conversation-id', content: { 'text/event-stream': { schema: z.string() } } },
    400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
    402: { description: 'No tokens left', content: { 'application/json': { schema: ErrorSchema } } },
    404: { description: 'Unknown conversation', content: { 'application/json': { schema: ErrorSchema } } },
    409: { description: 'A reply is already in progress', content: { 'application/json': { schema: ErrorSchema } } },
    429: { description: 'Too many messages', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

const ConversationParam = z.object({ conversationId: z.string().min(1).max(200).openapi({ param: { name: 'conversationId', in: 'path' } }) });

const resumeRoute = createRoute({
  method: 'get',
  path: '/api/chat/{conversationId}/stream',
  tags: ['chat'],
  summary: 'Re-attach to the reply in flight (204 when there is none)',
  security: [{ bearer: [] }],
  request: { params: ConversationParam },
  responses: {
    200: { description: 'The turn’s chunks from the start, then live', content: { 'text/event-stream': { schema: z.string() } } },
    204: { description: 'No reply in flight' },
    404: { description: 'Unknown conversation', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export const chatRoutes = router();
chatRoutes.use('/api/chat', requireAuth);
chatRoutes.use('/api/chat/*', requireAuth);

chatRoutes.openapi(chatRoute, async (c) => {
  const auth = c.get('auth');
  const body = c.req.valid('json');
  if (body.trigger === 'regenerate-message') throw badRequest('unsupported_trigger', 'Regenerating a reply is not supported; send the message again.');
  const last = body.messages?.at(-1);
  let text = body.message;
  let approvals: ApprovalAnswer[] | undefined;
  if (text === undefined && last) {
    if (last.role === 'user') text = messageText(last as UIMessage);
    else if (last.role === 'assistant') approvals = approvalsOf(last);
  }
  if (text === undefined && !approvals) throw badRequest('empty_message', 'Send `message`, or `messages` ending with a user message or approval answers.');
  const turn = await startTurn({
    auth,
    channel: auth.channel ?? 'web',
    conversationId: body.conversationId ?? body.id,
    text,
    clientMessageId: last?.role === 'user' ? last.id : undefined,
    approvals,
  });
  void turn.done;
  return sseResponse(c, turn.conversationId, { 'x-message-id': turn.assistantMessageId }) as never;
});

chatRoutes.openapi(resumeRoute, async (c) => {
  const auth = c.get('auth');
  const conversationId = await findConversationId(auth, c.req.valid('param').conversationId);
  const active = await turnHub().active(conversationId);
  if (!active) return c.body(null, 204) as never;
  return sseResponse(c, conversationId) as never;
});

chatRoutes.openapi(
  jsonRoute({
    method: 'post',
    path: '/api/chat/{conversationId}/abort',
    tags: ['chat'],
    summary: 'Stop the reply in flight',
    request: { params: ConversationParam },
    response: z.object({ aborted: z.boolean() }),
  }),
  async (c) => {
    const auth = c.get('auth');
    const conversationId = await findConversationId(auth, c.req.valid('param').conversationId);
    return c.json({ aborted: await abortTurn(auth, conversationId) }, 200);
  },
);
