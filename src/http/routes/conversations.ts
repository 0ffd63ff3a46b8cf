// The caller's conversations, their messages, and the preferences the agent remembers.
import { deleteConversation, getConversation, listConversations, listMessages, presentConversation, renameConversation } from '../../agents/conversations.js';
import { deletePreference, listPreferences, setPreference } from '../../agents/preferences.js';
import { requireAuth } from '../middleware.js';
import { jsonBody, jsonRoute, Pagination, router, UuidParam, z } from '../openapi.js';

const ConversationSchema = z
  .object({ id: z.string().uuid(), title: z.string(), channel: z.string(), lastMessageAt: z.date().nullable(), createdAt: z.date(), updatedAt: z.date() })
  .openapi('Conversation');
const MessageSchema = z.object({ id: z.string(), role: z.string(), parts: z.array(z.any()), metadata: z.any().optional() }).openapi('ChatMessage');
const PreferenceSchema = z.object({ key: z.string(), value: z.unknown(), updatedAt: z.date().optional() }).openapi('Preference');
const KeyParam = z.object({ key: z.string().min(1).max(100).openapi({ param: { name: 'key', in: 'path' } }) });

export const conversationRoutes = router();
for (const p of ['/api/conversations', '/api/conversations/*', '/api/preferences', '/api/preferences/*']) conversationRoutes.use(p, requireAuth);

conversationRoutes
  .openapi(
    jsonRoute({ method: 'get', path: '/api/conversations', tags: ['conversations'], summary: 'My conversations, most recent first', request: { query: Pagination }, response: z.object({ conversations: z.array(ConversationSchema), total: z.number() }) }),
    async (c) => c.json((await listConversations(c.get('auth'), c.req.valid('query'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/conversations/{id}', tags: ['conversations'], summary: 'One conversation', request: { params: UuidParam }, response: ConversationSchema }),
    async (c) => c.json(presentConversation(await getConversation(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'patch', path: '/api/conversations/{id}', tags: ['conversations'], summary: 'Rename a conversation', request: { params: UuidParam, ...jsonBody(z.object({ title: z.string().trim().min(1).max(255) })) }, response: ConversationSchema }),
    async (c) => c.json((await renameConversation(c.get('auth'), c.req.valid('param').id, c.req.valid('json').title)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/conversations/{id}', tags: ['conversations'], summary: 'Delete a conversation and its messages', request: { params: UuidParam }, response: z.object({ deleted: z.boolean() }) }),
    async (c) => {
      await deleteConversation(c.get('auth'), c.req.valid('param').id);
      return c.json({ deleted: true }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/conversations/{id}/messages',
      tags: ['conversations'],
      summary: 'Page through a conversation’s messages (oldest first; `before` for older pages)',
      request: { params: UuidParam, query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), before: z.coerce.date().optional() }) },
      response: z.object({ messages: z.array(MessageSchema), hasMore: z.boolean(), nextBefore: z.date().nullable() }),
    }),
    async (c) => c.json((await listMessages(c.get('auth'), c.req.valid('param').id, c.req.valid('query'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/preferences', tags: ['preferences'], summary: 'What the agent remembers about me', response: z.object({ preferences: z.array(PreferenceSchema) }) }),
    async (c) => c.json({ preferences: await listPreferences(c.get('auth')) } as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'put', path: '/api/preferences/{key}', tags: ['preferences'], summary: 'Set a preference', request: { params: KeyParam, ...jsonBody(z.object({ value: z.unknown().refine((v) => v !== undefined && JSON.stringify(v).length <= 10_000, 'a JSON value up to 10 KB') })) }, response: PreferenceSchema }),
    async (c) => c.json((await setPreference(c.get('auth'), c.req.valid('param').key, c.req.valid('json').value)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/preferences/{key}', tags: ['preferences'], summary: 'Forget a preference', request: { params: KeyParam }, response: z.object({ key: z.string(), deleted: z.boolean() }) }),
    async (c) => c.json((await deletePreference(c.get('auth'), c.req.valid('param').key)) as never, 200),
  );
