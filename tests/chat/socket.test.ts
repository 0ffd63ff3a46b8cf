// Socket.IO end to end: a started service (HTTP server + /chat namespace) and socket.io-client sockets,
// as a browser tab would connect. The provider is the AI SDK's mock model (the process boundary).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setChatModelOverride } from '../../src/agents/provider.js';
import { startServer, type Running } from '../../src/server.js';
import { signupTeam, testConfig } from '../support/harness.js';
import { addMember, deltas, mockModel, rows, textParts, toolCallParts, usage } from './support/chat.js';
import { connectChat, turnChunks, type ChatClient } from './support/sockets.js';

let server: Running;
const open: ChatClient[] = [];
const client = async (token?: string) => {
  const c = await connectChat(server.url, token);
  open.push(c);
  return c;
};

beforeAll(async () => {
  server = await startServer(testConfig({ PORT: '0' }));
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  setChatModelOverride(undefined);
});

const statusOf = async (messageId: string) =>
  (await rows<{ status: string }>(`SELECT data->'metadata'->>'status' AS status FROM agents_interaction WHERE id = :messageId`, { messageId }))[0]?.status;

describe('Socket.IO /chat', () => {
  it('refuses a handshake without a valid token with connect_error invalid_token', async () => {
    for (const token of [undefined, 'not-a-real-session-token', 'fsk_bogus']) {
      const err = await connectChat(server.url, token).then(
        () => undefined,
        (e: Error & { data?: { code?: string } }) => e,
      );
      expect(err?.data?.code, String(token)).toBe('invalid_token');
    }
  });

  it('acks message:send with the ids, then streams every chunk in order with no gap and ends with chat:done', async () => {
    const team = await signupTeam();
    mockModel(textParts('Hello from the agent, over a socket.', usage(12, 9)));
    const tab = await client(team.token);

    const ack = await tab.ack('message:send', { text: 'Hi there', clientMessageId: 'local-1' });
    expect(ack).toMatchObject({ ok: true, conversationId: expect.any(String), userMessageId: expect.any(String), messageId: expect.any(String) });
    const done = await tab.waitDone(ack.conversationId);
    expect(done).toMatchObject({ messageId: ack.messageId, status: 'complete', usage: { totalTokens: 21 }, charged: 21 });

    const chunks = turnChunks(tab, ack.conversationId); // throws on a gap or a reordering
    expect(chunks[0]).toMatchObject({ type: 'start', messageId: ack.messageId });
    expect(chunks.at(-1)).toMatchObject({ type: 'finish' });
    expect(deltas(chunks)).toBe('Hello from the agent, over a socket.');
    expect(tab.chunks.every((c) => c.messageId === ack.messageId)).toBe(true);
    expect(await statusOf(ack.messageId)).toBe('complete');
    const [user] = await rows<{ data: any }>(`SELECT data FROM agents_interaction WHERE id = :id`, { id: ack.userMessageId });
    expect(user!.data).toMatchObject({ role: 'user', parts: [{ type: 'text', text: 'Hi there' }], metadata: { clientId: 'local-1' } });
  });

  it('acks refusals with a stable code and stores nothing', async () => {
    const team = await signupTeam();
    const tab = await client(team.token);
    expect(await tab.ack('message:send', { text: '   ' })).toMatchObject({ ok: false, error: { code: 'empty_message' } });
    expect(await tab.ack('message:send', { conversationId: crypto.randomUUID(), text: 'hello' })).toMatchObject({ ok: false, error: { code: 'conversation_not_found' } });
    expect(await rows(`SELECT id FROM agents_interaction WHERE tenant_id = :t`, { t: team.tenantId })).toEqual([]);
  });

  it('streams the whole turn to every tab of the user, and to no one else', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const stranger = await signupTeam();
    mockModel(textParts('Both tabs see this reply.'));
    const [tabA, tabB, colleagueTab, strangerTab] = [await client(team.token), await client(team.token), await client(colleague.token), await client(stranger.token)];

    const ack = await tabA.ack('message:send', { text: 'Hello from tab A' });
    await Promise.all([tabA.waitDone(ack.conversationId), tabB.waitDone(ack.conversationId)]);
    const a = turnChunks(tabA, ack.conversationId);
    expect(turnChunks(tabB, ack.conversationId)).toEqual(a);
    expect(deltas(a)).toBe('Both tabs see this reply.');

    await Promise.all([colleagueTab.sync(), strangerTab.sync()]);
    for (const outsider of [colleagueTab, strangerTab]) {
      expect(outsider.chunks).toEqual([]);
      expect(outsider.done).toEqual([]);
    }
  });

  it('refuses conversation:join on another user’s or another team’s conversation, and the intruder sees nothing', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const stranger = await signupTeam();
    mockModel(textParts('First.'), textParts('Second, private.'));
    const owner = await client(team.token);
    const first = await owner.ack('message:send', { text: 'Private conversation' });
    await owner.waitDone(first.conversationId);

    const intruders = [await client(colleague.token), await client(stranger.token)];
    for (const intruder of intruders) {
      expect(await intruder.ack('conversation:join', { conversationId: first.conversationId })).toMatchObject({ ok: false, error: { code: 'conversation_not_found' } });
      expect(await intruder.ack('conversation:resume', { conversationId: first.conversationId })).toMatchObject({ ok: false, error: { code: 'conversation_not_found' } });
      expect(await intruder.ack('message:abort', { conversationId: first.conversationId })).toMatchObject({ ok: false, error: { code: 'conversation_not_found' } });
    }
    expect(await owner.ack('conversation:join', { conversationId: first.conversationId })).toMatchObject({ ok: true, conversationId: first.conversationId, activeMessageId: null });

    const second = await owner.ack('message:send', { conversationId: first.conversationId, text: 'More private things' });
    await owner.waitDone(second.conversationId, { after: 1 });
    for (const intruder of intruders) {
      await intruder.sync();
      expect(intruder.chunks).toEqual([]);
    }
  });

  it('stops the turn on message:abort: chat:done says aborted and the partial reply is stored so', async () => {
    const team = await signupTeam();
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
    mockModel({ parts: textParts(words.join(''), usage(100, 100), words), delayMs: 25 });
    const tab = await client(team.token);

    const ack = await tab.ack('message:send', { text: 'Talk for a long time' });
    await tab.waitChunks(ack.conversationId, 6);
    expect(await tab.ack('message:abort', { conversationId: ack.conversationId })).toEqual({ ok: true, aborted: true });
    const done = await tab.waitDone(ack.conversationId);
    expect(done).toMatchObject({ status: 'aborted', charged: 0 });
    const chunks = turnChunks(tab, ack.conversationId);
    expect(chunks.some((c) => c.type === 'abort')).toBe(true);
    expect(deltas(chunks).length).toBeLessThan(words.join('').length);
    expect(await statusOf(ack.messageId)).toBe('aborted');
    // Nothing left to abort.
    expect(await tab.ack('message:abort', { conversationId: ack.conversationId })).toEqual({ ok: true, aborted: false });
  });

  it('sends chat:error model_unavailable when the provider fails, then chat:done', async () => {
    const team = await signupTeam();
    mockModel(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    const tab = await client(team.token);
    const ack = await tab.ack('message:send', { text: 'Anyone there?' });
    const done = await tab.waitDone(ack.conversationId);
    expect(done).toMatchObject({ status: 'error', charged: 0 });
    expect(tab.errors).toEqual([expect.objectContaining({ conversationId: ack.conversationId, code: 'model_unavailable' })]);
    expect(await statusOf(ack.messageId)).toBe('error');
  });

  it('asks for approval over the socket and runs the tool once tool:approve arrives', async () => {
    const team = await signupTeam();
    const tab = await client(team.token);
    const setRes = await fetch(`${server.url}/api/preferences/tone`, { method: 'PUT', headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: 'formal' }) });
    expect(setRes.status).toBe(200);
    mockModel(toolCallParts('forget_preference', { key: 'tone' }), textParts('Your tone preference is gone.'));

    const ack = await tab.ack('message:send', { text: 'Forget my tone preference' });
    const asked = await tab.waitDone(ack.conversationId);
    expect(asked.status).toBe('awaiting_approval');
    const request = turnChunks(tab, ack.conversationId).find((c) => c.type === 'tool-approval-request') as { approvalId: string } | undefined;
    expect(request?.approvalId).toBeTruthy();
    expect(await rows(`SELECT key FROM agents_preference WHERE user_id = :u`, { u: team.userId })).toHaveLength(1);

    expect(await tab.ack('tool:approve', { conversationId: ack.conversationId, approvalId: 'made-up', approved: true })).toMatchObject({ ok: false, error: { code: 'unknown_approval' } });
    tab.chunks.length = 0;
    const approved = await tab.ack('tool:approve', { conversationId: ack.conversationId, approvalId: request!.approvalId, approved: true });
    expect(approved).toMatchObject({ ok: true, conversationId: ack.conversationId, messageId: ack.messageId });
    const done = await tab.waitDone(ack.conversationId, { after: 1 });
    expect(done.status).toBe('complete');
    const chunks = turnChunks(tab, ack.conversationId);
    expect(chunks).toContainEqual(expect.objectContaining({ type: 'tool-output-available', output: { key: 'tone', deleted: true } }));
    expect(deltas(chunks)).toBe('Your tone preference is gone.');
    expect(await rows(`SELECT key FROM agents_preference WHERE user_id = :u`, { u: team.userId })).toEqual([]);
  });

  it('replays the turn in flight from the start on conversation:resume after a reconnect', async () => {
    const team = await signupTeam();
    const words = Array.from({ length: 30 }, (_, i) => `r${i} `);
    mockModel({ parts: textParts(words.join(''), usage(10, 30), words), delayMs: 20 });
    const first = await client(team.token);
    const ack = await first.ack('message:send', { text: 'A long answer please' });
    const seenBefore = await first.waitChunks(ack.conversationId, 5);
    first.close(); // the connection drops mid-turn

    const second = await client(team.token);
    const resumed = await second.ack('conversation:resume', { conversationId: ack.conversationId });
    expect(resumed).toEqual({ ok: true, active: true, messageId: ack.messageId });
    await second.waitDone(ack.conversationId);
    // The replay arrives asynchronously after the ack; it ends with the turn's last chunk.
    const replayed = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = second.chunks.filter((c) => c.replay);
        if (r.at(-1)?.chunk.type === 'finish') return turnChunks(second, ack.conversationId, { replay: true });
        await second.sync();
      }
      throw new Error('replay did not finish');
    })();
    expect(replayed.slice(0, 5)).toEqual(seenBefore.slice(0, 5).map((c) => c.chunk));
    expect(deltas(replayed)).toBe(words.join(''));
    expect(await statusOf(ack.messageId)).toBe('complete');

    // Nothing in flight any more.
    expect(await second.ack('conversation:resume', { conversationId: ack.conversationId })).toEqual({ ok: true, active: false, messageId: null });
  });
});
