// Helpers for the chat tests: more people in a team, the HTTP chat stream read back with the AI SDK's
// own parser and UI-message reader, scripted mock-model streams, and plain SQL reads of what was stored.
import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { QueryTypes } from 'sequelize';
import { setChatModelOverride } from '../../../src/agents/provider.js';
import type { AuthContext } from '../../../src/auth/context.js';
import { createSession } from '../../../src/auth/sessions.js';
import { createUser } from '../../../src/auth/users.js';
import { db } from '../../../src/db/index.js';
import { app, uniqueEmail, type Team } from '../../support/harness.js';

export interface Person {
  token: string;
  tenantId: string;
  userId: string;
  auth: AuthContext;
}

/** Another member of the team, signed in. */
export async function addMember(team: Team, role: 'member' | 'viewer' | 'manager' = 'member'): Promise<Person> {
  const email = uniqueEmail('member');
  const user = await createUser(team.auth, { email, role });
  const session = await createSession(user, { ip: '127.0.0.1', userAgent: 'vitest' });
  return { token: session.token, tenantId: team.tenantId, userId: user.id, auth: { tenantId: team.tenantId, userId: user.id, role, email } };
}

/** Plain SQL read. */
export const rows = <T extends object = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}) =>
  db().query<T>(sql, { replacements, type: QueryTypes.SELECT });

export const balanceOf = async (tenantId: string) =>
  Number((await rows<{ balance: number }>('SELECT balance FROM billing_token_balance WHERE tenant_id = :tenantId', { tenantId }))[0]?.balance ?? 0);

/** How much of a tenant's data the chat stores: to show that a refused request changed nothing. */
export async function chatFootprint(tenantId: string) {
  const [c] = await rows<{ conversations: number; interactions: number; usage: number; debits: number; balance: number }>(
    `SELECT (SELECT count(*) FROM agents_conversation WHERE tenant_id = :tenantId)::int AS conversations,
            (SELECT count(*) FROM agents_interaction WHERE tenant_id = :tenantId)::int AS interactions,
            (SELECT count(*) FROM analytics_usage WHERE tenant_id = :tenantId)::int AS usage,
            (SELECT count(*) FROM billing_token_transaction WHERE tenant_id = :tenantId AND amount < 0)::int AS debits,
            (SELECT coalesce(max(balance), 0) FROM billing_token_balance WHERE tenant_id = :tenantId)::int AS balance`,
    { tenantId },
  );
  return c!;
}

/** POST /api/chat in-process; the response body is the UI message stream (SSE) on success. */
export function postChat(token: string, body: Record<string, unknown>, path = '/api/chat'): Promise<Response> {
  return Promise.resolve(
    app().request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
}

/** GET /api/chat/:id/stream in-process: re-attach to the reply in flight (204 when none). */
export function getStream(token: string, conversationId: string): Promise<Response> {
  return Promise.resolve(app().request(`/api/chat/${conversationId}/stream`, { headers: { authorization: `Bearer ${token}` } }));
}

/** The UI message chunks of an SSE body, parsed and validated by the AI SDK's own schema. */
export function chunkStream(body: ReadableStream<Uint8Array>): ReadableStream<UIMessageChunk> {
  return parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        controller.enqueue(result.value as UIMessageChunk);
      },
    }),
  );
}

export async function readChunks(res: Response): Promise<UIMessageChunk[]> {
  if (!res.ok) throw new Error(`chat failed: ${res.status} ${await res.text()}`);
  const out: UIMessageChunk[] = [];
  const reader = chunkStream(res.body!).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** The assistant message a client (useChat) builds from the chunks, continuing `message` if given. */
export async function toUIMessage(chunks: UIMessageChunk[], message?: UIMessage): Promise<UIMessage> {
  let last: UIMessage | undefined;
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  for await (const m of readUIMessageStream({ message: message && structuredClone(message), stream, terminateOnError: false, onError: () => {} })) last = m;
  if (!last) throw new Error('no message in the stream');
  return last;
}

export const textOf = (m: Pick<UIMessage, 'parts'>) =>
  m.parts
    .filter((p): p is { type: 'text'; text: string } => p.type === 'text')
    .map((p) => p.text)
    .join('');

export const deltas = (chunks: UIMessageChunk[]) =>
  chunks.filter((c): c is Extract<UIMessageChunk, { type: 'text-delta' }> => c.type === 'text-delta').map((c) => c.delta).join('');

/** Post a message and read the whole stream; returns the chunks, the message and the ids from the headers. */
export async function chat(token: string, body: Record<string, unknown>, continuing?: UIMessage) {
  const res = await postChat(token, body);
  const conversationId = res.headers.get('x-conversation-id');
  const messageId = res.headers.get('x-message-id');
  const chunks = await readChunks(res);
  return { chunks, message: await toUIMessage(chunks, continuing), conversationId: conversationId!, messageId: messageId! };
}

/** V3 usage as providers report it. */
export const usage = (input: number, output: number): LanguageModelV3Usage => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

/** A model stream: text in pieces, then finish with the given usage. */
export function textParts(text: string, u = usage(10, 5), pieces = text.split(/(?<=\s)/)): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't1' },
    ...pieces.map((delta) => ({ type: 'text-delta' as const, id: 't1', delta })),
    { type: 'text-end', id: 't1' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: u },
  ];
}

/** A model stream that calls one tool, then finishes the step. */
export function toolCallParts(toolName: string, input: Record<string, unknown>, u = usage(20, 8), toolCallId = 'call_1'): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) },
    { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: u },
  ];
}

/** A ReadableStream of parts, `delayMs` apart; `failAfter` parts then an error (a provider dying mid-reply). */
export function partStream(
  parts: LanguageModelV3StreamPart[],
  opts: { delayMs?: number; failAfter?: number; error?: Error; startAfter?: Promise<unknown>; signal?: AbortSignal } = {},
) {
  let i = 0;
  // Like a provider's fetch: an abort fails the stream at once, even while waiting for the next part.
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(opts.signal!.reason ?? new DOMException('aborted', 'AbortError'));
    if (opts.signal?.aborted) fail();
    else opts.signal?.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  const wait = (p: Promise<unknown>) => (opts.signal ? Promise.race([p, aborted]) : p);
  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      if (i === 0 && opts.startAfter) await wait(opts.startAfter);
      if (opts.failAfter !== undefined && i === opts.failAfter) {
        controller.error(opts.error ?? new Error('upstream connection reset'));
        return;
      }
      if (i >= parts.length) return controller.close();
      if (opts.delayMs && i > 0) await wait(new Promise((r) => setTimeout(r, opts.delayMs)));
      controller.enqueue(parts[i++]!);
    },
  });
}

export type Step = LanguageModelV3StreamPart[] | { parts: LanguageModelV3StreamPart[]; delayMs?: number; failAfter?: number; startAfter?: Promise<unknown> } | Error;

/** The provider for this test: each model call plays the next scripted step. */
export function mockModel(...steps: Step[]) {
  const queue = [...steps];
  const model = new MockLanguageModelV3({
    modelId: 'mock-gpt',
    doStream: async ({ abortSignal }) => {
      const step = queue.shift();
      if (!step) throw new Error('the mock model has no more scripted replies');
      if (step instanceof Error) throw step;
      const s = Array.isArray(step) ? { parts: step } : step;
      return { stream: partStream(s.parts, { ...s, signal: abortSignal }) };
    },
  });
  setChatModelOverride(model);
  return model;
}

/** A promise the test opens when it wants: holds a model reply back while the test looks at the turn. */
export function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Wait (bounded) until `check` holds, polling; for state that no event announces. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
