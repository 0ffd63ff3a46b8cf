// The chat turn end to end through POST /api/chat, with the AI SDK's MockLanguageModelV3 standing in for
// the provider (the process boundary): tool steps, memory (history window, preferences, recall),
// approvals, abort, provider failures, metering and every refusal — asserted on what the user sees in the
// stream and on what was stored and charged.
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { UIMessage, UIMessageChunk } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { setChatModelOverride } from '../../src/agents/provider.js';
import { startTurn } from '../../src/agents/turn.js';
import { debitTokens } from '../../src/billing/ledger.js';
import { setConfig } from '../../src/config.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import {
  addMember,
  balanceOf,
  chat,
  chatFootprint,
  chunkStream,
  deltas,
  gate,
  mockModel,
  postChat,
  readChunks,
  rows,
  textOf,
  textParts,
  toolCallParts,
  usage,
} from './support/chat.js';

useTestApp();

const systemOf = (call: LanguageModelV3CallOptions) => {
  const m = call.prompt.find((p) => p.role === 'system');
  return m?.role === 'system' ? m.content : '';
};
const userTexts = (call: LanguageModelV3CallOptions) =>
  call.prompt.flatMap((m) => (m.role === 'user' ? m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])) : []));

const storedMessages = (conversationId: string) =>
  rows<{ id: string; data: UIMessage & { metadata?: any }; embedded: boolean }>(
    `SELECT id, data, embedding IS NOT NULL AS embedded FROM agents_interaction
      WHERE conversation_id = :conversationId AND interaction_type = 'message' ORDER BY created_at, id`,
    { conversationId },
  );
const storedToolCalls = (conversationId: string) =>
  rows<{ data: any }>(`SELECT data FROM agents_interaction WHERE conversation_id = :conversationId AND interaction_type = 'tool_call' ORDER BY created_at`, {
    conversationId,
  });
const usageRows = (tenantId: string) =>
  rows<{ tokens_used: number; user_id: string; metadata: any }>(
    `SELECT tokens_used, user_id, metadata FROM analytics_usage WHERE tenant_id = :tenantId AND activity_type = 'chat_turn' ORDER BY created_at`,
    { tenantId },
  );
const chatDebits = (tenantId: string) =>
  rows<{ amount: number; balance_after: number; metadata: any }>(
    `SELECT amount, balance_after, metadata FROM billing_token_transaction WHERE tenant_id = :tenantId AND operation = 'chat_turn' ORDER BY created_at`,
    { tenantId },
  );

/** The client's answer to the approval requests of an assistant message, as useChat sends it. */
function answer(message: UIMessage, approved: boolean): UIMessage {
  return {
    ...message,
    parts: message.parts.map((p: any) => (p.state === 'approval-requested' ? { ...p, state: 'approval-responded', approval: { ...p.approval, approved } } : p)),
  };
}
const approvalIdOf = (chunks: UIMessageChunk[]) => (chunks.find((c) => c.type === 'tool-approval-request') as { approvalId: string } | undefined)?.approvalId;

afterEach(() => {
  setChatModelOverride(undefined);
  setConfig(testConfig());
});

describe('a chat turn', () => {
  it('calls a tool in one step and answers in the next: the preference is stored, every part and tool call kept, usage charged once', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    const model = mockModel(
      toolCallParts('remember_preference', { key: 'tone', value: 'formal and brief' }, usage(20, 8)),
      textParts('Noted: I will keep answers formal and brief.', usage(45, 11)),
    );

    const { message, chunks, conversationId, messageId } = await chat(team.token, { message: 'Remember that I like formal and brief answers' });

    // What the user sees: the tool ran, then the answer.
    expect(message.id).toBe(messageId);
    const toolPart = message.parts.find((p) => p.type === 'tool-remember_preference') as any;
    expect(toolPart).toMatchObject({ state: 'output-available', input: { key: 'tone', value: 'formal and brief' }, output: { key: 'tone', value: 'formal and brief' } });
    expect(textOf(message)).toBe('Noted: I will keep answers formal and brief.');
    expect(chunks.at(-1)).toMatchObject({ type: 'finish' });
    expect(model.doStreamCalls).toHaveLength(2);
    const toolResult = model.doStreamCalls[1]!.prompt.find((m) => m.role === 'tool');
    expect(toolResult?.content[0]).toMatchObject({ type: 'tool-result', toolCallId: 'call_1', toolName: 'remember_preference' });

    const prefs = await rows('SELECT key, value FROM agents_preference WHERE tenant_id = :t AND user_id = :u', { t: team.tenantId, u: team.userId });
    expect(prefs).toEqual([{ key: 'tone', value: 'formal and brief' }]);

    // Stored: both messages (UI parts in data) and the tool call.
    const stored = await storedMessages(conversationId);
    expect(stored.map((m) => m.data.role)).toEqual(['user', 'assistant']);
    expect(stored[0]!.data.parts).toEqual([{ type: 'text', text: 'Remember that I like formal and brief answers' }]);
    expect(stored[1]!.id).toBe(messageId);
    expect(stored[1]!.data.parts).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'tool-remember_preference', state: 'output-available' }), expect.objectContaining({ type: 'text', text: 'Noted: I will keep answers formal and brief.' })]));
    expect(stored[1]!.data.metadata).toMatchObject({ status: 'complete', model: 'mock-gpt', usage: { inputTokens: 65, outputTokens: 19, totalTokens: 84 } });
    expect(stored.every((m) => m.embedded)).toBe(true);
    const toolCalls = await storedToolCalls(conversationId);
    expect(toolCalls).toHaveLength(1);
    expect(toolCalls[0]!.data).toMatchObject({ messageId, toolName: 'remember_preference', toolCallId: 'call_1', state: 'output-available', input: { key: 'tone', value: 'formal and brief' } });

    // Metered: one usage row with the provider's figures, one debit of exactly that, balance_after exact.
    const usageRowsNow = await usageRows(team.tenantId);
    expect(usageRowsNow).toHaveLength(1);
    expect(usageRowsNow[0]).toMatchObject({ tokens_used: 84, user_id: team.userId, metadata: { conversationId, messageId, inputTokens: 65, outputTokens: 19, status: 'complete' } });
    const debits = await chatDebits(team.tenantId);
    expect(debits).toEqual([expect.objectContaining({ amount: -84, balance_after: before - 84 })]);
    expect(await balanceOf(team.tenantId)).toBe(before - 84);
  });

  it('titles a new conversation after its first message and keeps the title afterwards', async () => {
    const team = await signupTeam();
    mockModel(textParts('Sure.'), textParts('Again.'), textParts('Long.'));
    const first = await chat(team.token, { message: '  Plan the   Q3 offsite  ' });
    await chat(team.token, { id: first.conversationId, message: 'Something else entirely' });
    const got = await call('GET', `/api/conversations/${first.conversationId}`, { token: team.token });
    expect(got.body.title).toBe('Plan the Q3 offsite');

    const long = 'Summarise the findings of the customer interviews we ran in March about onboarding friction and pricing';
    const second = await chat(team.token, { message: long });
    const title = (await call('GET', `/api/conversations/${second.conversationId}`, { token: team.token })).body.title as string;
    expect(title.length).toBeLessThanOrEqual(80);
    expect(title.endsWith('…')).toBe(true);
    expect(long.startsWith(title.slice(0, -1))).toBe(true);
  });

  it('sends the model only the newest messages that fit AGENT_HISTORY_TOKENS', async () => {
    const team = await signupTeam();
    const names = ['one', 'two', 'three', 'four', 'five'];
    const model = mockModel(...names.map((n) => textParts(`Reply ${n}.`)));
    const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(10); // ≈ 100 tokens
    let conversationId: string | undefined;
    for (const n of names.slice(0, 4)) {
      const r = await chat(team.token, { ...(conversationId ? { id: conversationId } : {}), message: `Message ${n}: ${filler}` });
      conversationId = r.conversationId;
    }
    // With the default budget the whole conversation goes to the model.
    expect(userTexts(model.doStreamCalls[3]!).map((t) => t.split(':')[0])).toEqual(['Message one', 'Message two', 'Message three', 'Message four']);

    setConfig(testConfig({ AGENT_HISTORY_TOKENS: '256' }));
    await chat(team.token, { id: conversationId, message: `Message five: ${filler}` });
    const sent = userTexts(model.doStreamCalls[4]!).map((t) => t.split(':')[0]);
    expect(sent.at(-1)).toBe('Message five');
    expect(sent).not.toContain('Message one');
    expect(sent.length).toBeLessThan(3);
    // The window starts with a user message, never with an orphaned reply.
    expect(model.doStreamCalls[4]!.prompt.find((m) => m.role !== 'system')?.role).toBe('user');
  });

  it('puts the user’s preferences, and only theirs, in the system prompt', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    expect((await call('PUT', '/api/preferences/report_format', { token: team.token, json: { value: 'PDF with charts' } })).status).toBe(200);
    expect((await call('PUT', '/api/preferences/report_format', { token: colleague.token, json: { value: 'plain text' } })).status).toBe(200);
    const model = mockModel(textParts('OK.'), textParts('OK.'));

    await chat(team.token, { message: 'Prepare the weekly report' });
    expect(systemOf(model.doStreamCalls[0]!)).toContain('- report_format: PDF with charts');
    expect(systemOf(model.doStreamCalls[0]!)).not.toContain('plain text');

    await chat(colleague.token, { message: 'Prepare the weekly report' });
    expect(systemOf(model.doStreamCalls[1]!)).toContain('- report_format: plain text');
    expect(systemOf(model.doStreamCalls[1]!)).not.toContain('PDF with charts');
  });

  it('recalls the same user’s earlier conversations in a new one, never another user’s', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const model = mockModel(...Array.from({ length: 4 }, () => textParts('Noted.')));

    await chat(team.token, { message: 'For the record: the Falcon project budget is 42k euros.' });
    await chat(colleague.token, { message: 'For the record: the Falcon project budget is 99k euros.' });

    await chat(team.token, { message: 'What is the Falcon project budget?' });
    const mine = systemOf(model.doStreamCalls[2]!);
    expect(mine).toContain('the Falcon project budget is 42k euros');
    expect(mine).not.toContain('99k');

    await chat(colleague.token, { message: 'What is the Falcon project budget?' });
    const theirs = systemOf(model.doStreamCalls[3]!);
    expect(theirs).toContain('the Falcon project budget is 99k euros');
    expect(theirs).not.toContain('42k');
  });

  it('refuses a tenant with no tokens left with 402 insufficient_tokens, before any model call, storing nothing', async () => {
    const team = await signupTeam();
    await debitTokens({ tenantId: team.tenantId, tokens: await balanceOf(team.tenantId), operation: 'test_drain' });
    const before = await chatFootprint(team.tenantId);
    const model = mockModel(textParts('never'));

    const res = await postChat(team.token, { message: 'Hello?' });
    expect(res.status).toBe(402);
    expect((await res.json()).error.code).toBe('insufficient_tokens');
    expect(model.doStreamCalls).toHaveLength(0);
    expect(await chatFootprint(team.tenantId)).toEqual(before);
  });
});

describe('tool approval', () => {
  it('asks before forgetting a preference, and forgets it once the user approves', async () => {
    const team = await signupTeam();
    await call('PUT', '/api/preferences/tone', { token: team.token, json: { value: 'formal' } });
    const model = mockModel(toolCallParts('forget_preference', { key: 'tone' }, usage(30, 6)), textParts('Done: I forgot your tone preference.', usage(50, 9)));

    const asked = await chat(team.token, { message: 'Forget my tone preference' });
    const approvalId = approvalIdOf(asked.chunks);
    expect(approvalId).toBeTruthy();
    expect(asked.message.parts.find((p) => p.type === 'tool-forget_preference')).toMatchObject({ state: 'approval-requested', input: { key: 'tone' } });
    expect((await storedMessages(asked.conversationId)).at(-1)!.data.metadata.status).toBe('awaiting_approval');
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toEqual([expect.objectContaining({ key: 'tone', value: 'formal' })]);

    // useChat sends the whole list back with the approval answered on the assistant message.
    const reply = answer(asked.message, true);
    const approved = await chat(team.token, { id: asked.conversationId, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Forget my tone preference' }] }, reply] }, reply);
    expect(approved.messageId).toBe(asked.messageId);
    expect(approved.message.parts.find((p) => p.type === 'tool-forget_preference')).toMatchObject({ state: 'output-available', output: { key: 'tone', deleted: true } });
    expect(textOf(approved.message)).toContain('Done: I forgot your tone preference.');
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toEqual([]);
    expect(model.doStreamCalls).toHaveLength(2);

    const stored = await storedMessages(asked.conversationId);
    expect(stored.map((m) => m.data.role)).toEqual(['user', 'assistant']);
    expect(stored[1]!.data.metadata.status).toBe('complete');
    // One row per tool call, holding its final state.
    expect((await storedToolCalls(asked.conversationId)).map((t) => t.data.state)).toEqual(['output-available']);
    // Both turns are metered: the question (36) and the approved continuation (59).
    expect((await chatDebits(team.tenantId)).map((d) => d.amount)).toEqual([-36, -59]);
  });

  it('keeps the preference when the user denies, and the reply says so (offline model, startTurn)', async () => {
    const team = await signupTeam();
    await call('PUT', '/api/preferences/tone', { token: team.token, json: { value: 'formal' } });
    const asked = await chat(team.token, { message: 'Forget my tone preference' });
    const approvalId = approvalIdOf(asked.chunks)!;
    expect(approvalId).toBeTruthy();

    const turn = await startTurn({ auth: team.auth, channel: 'web', conversationId: asked.conversationId, approvals: [{ approvalId, approved: false, reason: 'keep it' }] });
    const result = await turn.done;
    expect(result.status).toBe('complete');
    const [, reply] = await storedMessages(asked.conversationId);
    expect(reply!.data.parts.find((p) => p.type === 'tool-forget_preference')).toMatchObject({ state: 'output-denied', approval: { id: approvalId, approved: false } });
    expect(textOf(reply!.data)).toBe('I did not run Forget a preference: keep it.');
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toEqual([expect.objectContaining({ key: 'tone' })]);
  });

  it('refuses an unknown approval id with 400 unknown_approval and changes nothing', async () => {
    const team = await signupTeam();
    await call('PUT', '/api/preferences/tone', { token: team.token, json: { value: 'formal' } });
    const model = mockModel(toolCallParts('forget_preference', { key: 'tone' }));
    const asked = await chat(team.token, { message: 'Forget my tone preference' });
    const before = await chatFootprint(team.tenantId);

    const forged = { ...asked.message, parts: asked.message.parts.map((p: any) => (p.state === 'approval-requested' ? { ...p, state: 'approval-responded', approval: { id: 'not-a-real-approval', approved: true } } : p)) };
    const res = await postChat(team.token, { id: asked.conversationId, messages: [forged] });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('unknown_approval');
    await expect(startTurn({ auth: team.auth, channel: 'web', conversationId: asked.conversationId, approvals: [{ approvalId: 'nope', approved: true }] })).rejects.toMatchObject({ code: 'unknown_approval' });

    expect(await chatFootprint(team.tenantId)).toEqual(before);
    expect((await storedMessages(asked.conversationId)).at(-1)!.data.metadata.status).toBe('awaiting_approval');
    expect(model.doStreamCalls).toHaveLength(1);
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toHaveLength(1);
  });
});

describe('abort and provider failures', () => {
  it('stops a reply mid-stream: the partial reply is kept, marked aborted, and only reported tokens are charged', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
    mockModel(toolCallParts('remember_preference', { key: 'city', value: 'Lyon' }, usage(20, 8)), {
      parts: textParts(words.join(''), usage(500, 200), words),
      delayMs: 25,
    });

    const res = await postChat(team.token, { message: 'Remember that my city is Lyon, then tell me a long story' });
    const conversationId = res.headers.get('x-conversation-id')!;
    const reader = chunkStream(res.body!).getReader();
    const seen: UIMessageChunk[] = [];
    while (seen.filter((c) => c.type === 'text-delta').length < 3) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended before the abort');
      seen.push(value);
    }
    const aborted = await call('POST', `/api/chat/${conversationId}/abort`, { token: team.token });
    expect(aborted).toMatchObject({ status: 200, body: { aborted: true } });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen.push(value);
    }

    expect(seen.some((c) => c.type === 'abort')).toBe(true);
    const shown = deltas(seen);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(words.join('').length);
    const [, reply] = await storedMessages(conversationId);
    expect(reply!.data.metadata).toMatchObject({ status: 'aborted', usage: { totalTokens: 28 } });
    expect(words.join('').startsWith(textOf(reply!.data))).toBe(true);
    expect(textOf(reply!.data).length).toBeGreaterThan(0);
    expect((await usageRows(team.tenantId)).map((u) => u.tokens_used)).toEqual([28]);
    expect(await balanceOf(team.tenantId)).toBe(before - 28);
    // The conversation is free again.
    mockModel(textParts('Here again.'));
    expect(textOf((await chat(team.token, { id: conversationId, message: 'Still there?' })).message)).toBe('Here again.');
  });

  it('reports model_unavailable when the provider dies mid-reply: the message and the partial reply are stored, nothing is charged', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    mockModel({ parts: textParts('The answer is forty two and more', usage(30, 10), ['The ', 'answer ', 'is ', 'forty ', 'two']), failAfter: 5 });

    const { chunks, conversationId, message } = await chat(team.token, { message: 'What is the answer?' });
    const error = chunks.find((c) => c.type === 'error') as { errorText: string } | undefined;
    expect(error?.errorText).toMatch(/could not be reached or failed mid-reply/);
    expect(textOf(message)).toBe('The answer is ');

    const stored = await storedMessages(conversationId);
    expect(stored.map((m) => m.data.role)).toEqual(['user', 'assistant']);
    expect(textOf(stored[1]!.data)).toBe('The answer is ');
    expect(stored[1]!.data.metadata).toMatchObject({ status: 'error', error: { code: 'model_unavailable' }, usage: { totalTokens: 0 } });
    expect((await usageRows(team.tenantId)).map((u) => u.tokens_used)).toEqual([0]);
    expect(await chatDebits(team.tenantId)).toEqual([]);
    expect(await balanceOf(team.tenantId)).toBe(before);
  });

  it('gives up on a provider that does not answer within MODEL_TIMEOUT_MS: model_unavailable, the message is kept', async () => {
    setConfig(testConfig({ MODEL_TIMEOUT_MS: '1000' }));
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    mockModel({ parts: textParts('too late'), startAfter: new Promise(() => {}) });
    const started = Date.now();
    const { chunks, conversationId } = await chat(team.token, { message: 'Are you there?' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(chunks.find((c) => c.type === 'error')).toMatchObject({ errorText: expect.stringMatching(/took too long/) });
    const stored = await storedMessages(conversationId);
    expect(stored.map((m) => m.data.role)).toEqual(['user', 'assistant']);
    expect(stored[1]!.data.metadata).toMatchObject({ status: 'error', error: { code: 'model_unavailable' } });
    expect(await balanceOf(team.tenantId)).toBe(before);
  });

  it('charges only the steps the provider reported when it fails in a later step', async () => {
    const team = await signupTeam();
    const before = await balanceOf(team.tenantId);
    mockModel(toolCallParts('remember_preference', { key: 'city', value: 'Lyon' }, usage(20, 8)), new Error('connect ECONNREFUSED'));

    const { chunks, conversationId } = await chat(team.token, { message: 'Remember that my city is Lyon' });
    expect(chunks.some((c) => c.type === 'error')).toBe(true);
    const [, reply] = await storedMessages(conversationId);
    expect(reply!.data.metadata).toMatchObject({ status: 'error', error: { code: 'model_unavailable' } });
    expect(reply!.data.parts.find((p) => p.type === 'tool-remember_preference')).toMatchObject({ state: 'output-available' });
    expect((await chatDebits(team.tenantId)).map((d) => d.amount)).toEqual([-28]);
    expect(await balanceOf(team.tenantId)).toBe(before - 28);
  });
});

describe('refusals', () => {
  it('refuses empty and oversized messages with 400 and stores nothing', async () => {
    const team = await signupTeam();
    const model = mockModel();
    setConfig(testConfig({ MAX_MESSAGE_CHARS: '500' }));
    const before = await chatFootprint(team.tenantId);
    const cases: [Record<string, unknown>, string][] = [
      [{ message: '' }, 'empty_message'],
      [{ message: '   \n ' }, 'empty_message'],
      [{ messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: ' ' }] }] }, 'empty_message'],
      [{}, 'empty_message'],
      [{ message: 'x'.repeat(501) }, 'message_too_long'],
    ];
    for (const [body, code] of cases) {
      const res = await postChat(team.token, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect((await res.json()).error.code).toBe(code);
    }
    expect(model.doStreamCalls).toHaveLength(0);
    expect(await chatFootprint(team.tenantId)).toEqual(before);
  });

  it('answers 404 conversation_not_found for another user’s or another team’s conversation, and stores nothing', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const stranger = await signupTeam();
    mockModel(textParts('Private answer.'));
    const mine = await chat(team.token, { message: 'My private question' });
    const teamBefore = await chatFootprint(team.tenantId);
    const strangerBefore = await chatFootprint(stranger.tenantId);

    for (const intruder of [colleague.token, stranger.token]) {
      const res = await postChat(intruder, { id: mine.conversationId, message: 'Let me in' });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('conversation_not_found');
      for (const [method, path] of [['GET', `/api/chat/${mine.conversationId}/stream`], ['POST', `/api/chat/${mine.conversationId}/abort`], ['GET', `/api/conversations/${mine.conversationId}/messages`]] as const) {
        const r = await call(method, path, { token: intruder });
        expect(r.status, `${method} ${path}`).toBe(404);
      }
    }
    expect(await chatFootprint(team.tenantId)).toEqual(teamBefore);
    expect(await chatFootprint(stranger.tenantId)).toEqual(strangerBefore);
    expect(await storedMessages(mine.conversationId)).toHaveLength(2);
  });

  it('limits messages per minute with 429 rate_limited', async () => {
    setConfig(testConfig({ CHAT_TURNS_PER_MINUTE: '2' }));
    const team = await signupTeam();
    const model = mockModel(textParts('One.'), textParts('Two.'));
    await chat(team.token, { message: 'first' });
    await chat(team.token, { message: 'second' });
    const before = await chatFootprint(team.tenantId);
    const res = await postChat(team.token, { message: 'third' });
    expect(res.status).toBe(429);
    expect((await res.json()).error.code).toBe('rate_limited');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(model.doStreamCalls).toHaveLength(2);
    expect(await chatFootprint(team.tenantId)).toEqual(before);
  });

  it('limits replies in progress at once with 429 too_many_concurrent_turns', async () => {
    const team = await signupTeam();
    const hold = gate();
    mockModel({ parts: textParts('First.'), startAfter: hold.promise }, { parts: textParts('Second.'), startAfter: hold.promise }, textParts('Third.'));
    const a = await postChat(team.token, { message: 'one' });
    const b = await postChat(team.token, { message: 'two' });
    expect([a.status, b.status]).toEqual([200, 200]);
    const before = await chatFootprint(team.tenantId);

    const c = await postChat(team.token, { message: 'three' });
    expect(c.status).toBe(429);
    expect((await c.json()).error.code).toBe('too_many_concurrent_turns');
    expect(await chatFootprint(team.tenantId)).toEqual(before);

    hold.open();
    expect(deltas(await readChunks(a))).toBe('First.');
    expect(deltas(await readChunks(b))).toBe('Second.');
    // A finished reply frees its slot.
    expect(textOf((await chat(team.token, { message: 'three again' })).message)).toBe('Third.');
  });

  it('refuses a second message while a reply is being written in the same conversation with 409 turn_in_progress', async () => {
    const team = await signupTeam();
    const hold = gate();
    mockModel({ parts: textParts('Slow answer.'), startAfter: hold.promise }, textParts('Next answer.'));
    const first = await postChat(team.token, { message: 'Question one' });
    const conversationId = first.headers.get('x-conversation-id')!;

    const second = await postChat(team.token, { id: conversationId, message: 'Question two' });
    expect(second.status).toBe(409);
    expect((await second.json()).error.code).toBe('turn_in_progress');
    expect((await storedMessages(conversationId)).map((m) => textOf(m.data))).toEqual(['Question one']);

    hold.open();
    expect(deltas(await readChunks(first))).toBe('Slow answer.');
    const third = await chat(team.token, { id: conversationId, message: 'Question two' });
    expect(textOf(third.message)).toBe('Next answer.');
    expect((await storedMessages(conversationId)).map((m) => textOf(m.data))).toEqual(['Question one', 'Slow answer.', 'Question two', 'Next answer.']);
  });
});
