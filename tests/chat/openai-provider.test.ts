// The real provider path: the service configured with OPENAI_BASE_URL talks to a local OpenAI-compatible
// server through @ai-sdk/openai (Chat Completions + embeddings), and POST /api/chat is read back with the
// AI SDK's own SSE parser and UI-message reader, as useChat would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setConfig } from '../../src/config.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { balanceOf, chat, chunkStream, deltas, getStream, postChat, readChunks, rows, textOf } from './support/chat.js';
import type { UIMessageChunk } from 'ai';

useTestApp();

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-test' });
  setConfig(testConfig({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', CHAT_MODEL: 'gpt-test' }));
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.setScript([]);
  fake.requests.length = 0;
});

const chatRequests = () => fake.requests.filter((r) => Array.isArray(r.messages));
const storedMessages = (conversationId: string) =>
  rows<{ data: any }>(`SELECT data FROM agents_interaction WHERE conversation_id = :conversationId AND interaction_type = 'message' ORDER BY created_at, id`, { conversationId });
const charges = (tenantId: string) =>
  rows<{ amount: number; balance_after: number }>(`SELECT amount, balance_after FROM billing_token_transaction WHERE tenant_id = :tenantId AND operation = 'chat_turn' ORDER BY created_at`, { tenantId });
const usageTokens = async (tenantId: string) =>
  (await rows<{ tokens_used: number }>(`SELECT tokens_used FROM analytics_usage WHERE tenant_id = :tenantId AND activity_type = 'chat_turn' ORDER BY created_at`, { tenantId })).map((r) => r.tokens_used);

describe('OpenAI-compatible provider', () => {
  it('streams the provider’s text through POST /api/chat as useChat reads it, and charges the reported usage', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    const text = 'Refunds are accepted within 30 days of purchase.';
    fake.setScript([{ text, chunkSize: 7, usage: { prompt_tokens: 321, completion_tokens: 12 } }]);

    // useChat's default transport body: its own chat id and the whole message list.
    const { chunks, message, conversationId } = await chat(team.token, {
      id: 'chat-client-1',
      messages: [{ id: 'client-msg-1', role: 'user', parts: [{ type: 'text', text: 'What is the refund policy?' }] }],
      trigger: 'submit-message',
    });

    expect(textOf(message)).toBe(text);
    expect(chunks.filter((c) => c.type === 'text-delta').map((c) => (c as { delta: string }).delta)).toEqual(['Refunds', ' are ac', 'cepted ', 'within ', '30 days', ' of pur', 'chase.']);
    expect(chunks[0]).toMatchObject({ type: 'start', messageMetadata: { model: 'gpt-test' } });
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });

    const [request] = chatRequests();
    expect(request).toMatchObject({ model: 'gpt-test', stream: true });
    expect(request!.messages[0]).toMatchObject({ role: 'system' });
    expect(request!.messages.at(-1)).toEqual({ role: 'user', content: 'What is the refund policy?' });
    expect(request!.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(expect.arrayContaining(['remember_preference', 'forget_preference', 'list_preferences']));

    expect((await storedMessages(conversationId)).map((m) => m.data.metadata.status ?? m.data.role)).toEqual(['user', 'complete']);
    expect(await usageTokens(team.tenantId)).toEqual([333]);
    expect(await charges(team.tenantId)).toEqual([{ amount: -333, balance_after: before - 333 }]);
    expect(await balanceOf(team.tenantId)).toBe(before - 333);

    // The same client chat id continues the same conversation, with its history sent to the provider.
    fake.setScript([{ text: 'You asked about refunds.' }]);
    const again = await chat(team.token, { id: 'chat-client-1', messages: [{ id: 'client-msg-2', role: 'user', parts: [{ type: 'text', text: 'What did I ask?' }] }] });
    expect(again.conversationId).toBe(conversationId);
    expect(chatRequests()[1]!.messages.filter((m: { role: string }) => m.role !== 'system').map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('runs a multi-step tool call: the tool result goes back to the provider, the answer follows, both steps are charged', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    fake.setScript((body) =>
      body.messages.some((m) => m.role === 'tool')
        ? { text: 'I will send your reports as PDF from now on.', usage: { prompt_tokens: 140, completion_tokens: 11 } }
        : { toolCalls: [{ name: 'remember_preference', arguments: { key: 'report_format', value: 'PDF' } }], usage: { prompt_tokens: 120, completion_tokens: 14 } },
    );

    const { message, conversationId } = await chat(team.token, { message: 'Please remember that I want my reports as PDF' });

    expect(message.parts.find((p) => p.type === 'tool-remember_preference')).toMatchObject({ state: 'output-available', input: { key: 'report_format', value: 'PDF' } });
    expect(textOf(message)).toBe('I will send your reports as PDF from now on.');
    const [first, second] = chatRequests();
    expect(first!.messages.some((m: { role: string }) => m.role === 'tool')).toBe(false);
    const toolMessage = second!.messages.find((m: { role: string }) => m.role === 'tool');
    expect(JSON.parse(toolMessage.content)).toMatchObject({ key: 'report_format', value: 'PDF' });
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toEqual([expect.objectContaining({ key: 'report_format', value: 'PDF' })]);

    const [, reply] = await storedMessages(conversationId);
    expect(reply!.data.metadata).toMatchObject({ status: 'complete', usage: { inputTokens: 260, outputTokens: 25, totalTokens: 285 } });
    expect(await usageTokens(team.tenantId)).toEqual([285]);
    expect(await charges(team.tenantId)).toEqual([{ amount: -285, balance_after: before - 285 }]);
  });

  it.each([
    [429, /rate-limited/],
    [500, /could not be reached/],
  ])('turns a provider HTTP %i into model_unavailable: the message is stored, nothing charged', async (status, shown) => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    // One retry is allowed: both attempts fail.
    fake.setScript([
      { error: { status, message: 'upstream says no' } },
      { error: { status, message: 'upstream says no' } },
    ]);
    const { chunks, conversationId } = await chat(team.token, { message: 'Hello?' });
    expect((chunks.find((c) => c.type === 'error') as { errorText: string }).errorText).toMatch(shown);
    expect(chatRequests()).toHaveLength(2);
    const stored = await storedMessages(conversationId);
    expect(stored.map((m) => m.data.role)).toEqual(['user', 'assistant']);
    expect(stored[1]!.data.metadata).toMatchObject({ status: 'error', error: { code: 'model_unavailable' } });
    expect(await charges(team.tenantId)).toEqual([]);
    expect(await balanceOf(team.tenantId)).toBe(before);
  });

  it('keeps the partial reply when the provider’s connection dies mid-stream, and charges nothing unreported', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    fake.setScript([{ failAfterChunks: 3, text: 'one two three four five six' }]);
    const { chunks, conversationId } = await chat(team.token, { message: 'Count for me' });

    expect(deltas(chunks)).toBe('one two three');
    expect(chunks.at(-1)).toMatchObject({ type: 'error', errorText: expect.stringMatching(/failed mid-reply/) });
    const [user, reply] = await storedMessages(conversationId);
    expect(textOf(user!.data)).toBe('Count for me');
    expect(textOf(reply!.data)).toBe('one two three');
    expect(reply!.data.metadata).toMatchObject({ status: 'error', error: { code: 'model_unavailable' }, usage: { totalTokens: 0 } });
    expect(await usageTokens(team.tenantId)).toEqual([0]);
    expect(await balanceOf(team.tenantId)).toBe(before);
  });

  it('lets a reloaded client re-attach to a slow reply with GET /api/chat/:id/stream: the same chunks, in order, from the start', async () => {
    const team = await signupTeam();
    const words = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    fake.setScript([{ text: words, delayMs: 25 }]);

    const res = await postChat(team.token, { message: 'Tell me twenty words' });
    const conversationId = res.headers.get('x-conversation-id')!;
    const original = chunkStream(res.body!).getReader();
    const firstSeen: UIMessageChunk[] = [];
    while (firstSeen.filter((c) => c.type === 'text-delta').length < 3) firstSeen.push((await original.read()).value!);

    // The first tab goes away mid-reply; a reload re-attaches.
    await original.cancel();
    const resumed = await getStream(team.token, conversationId);
    expect(resumed.status).toBe(200);
    const again = await readChunks(resumed);
    expect(again.slice(0, firstSeen.length)).toEqual(firstSeen);
    expect(deltas(again)).toBe(words);
    expect(again.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });

    // Once the reply is over there is nothing to re-attach to.
    expect((await getStream(team.token, conversationId)).status).toBe(204);
    const [, reply] = await storedMessages(conversationId);
    expect(textOf(reply!.data)).toBe(words);
    expect(reply!.data.metadata.status).toBe('complete');
  });
});
