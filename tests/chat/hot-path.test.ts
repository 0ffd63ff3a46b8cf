// The turn's fast path: what it must still refuse and store (session checks in one query, the user's
// message stored in one statement, recall embedded locally unless told otherwise), and the streaming
// write coalescing that keeps every chunk, in order.
import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import type { UIMessageChunk } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { embedText } from '../../src/agents/memory.js';
import { loadTurnContext, storeUserMessage } from '../../src/agents/conversations.js';
import { validateSessionToken } from '../../src/auth/sessions.js';
import { setConfig } from '../../src/config.js';
import { deltaRun, hold } from '../../src/realtime/coalesce.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';
import { signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { chat, rows, textOf } from './support/chat.js';

useTestApp();

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-test' });
});
afterAll(() => fake.close());
beforeEach(() => {
  setConfig(testConfig({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', CHAT_MODEL: 'gpt-test' }));
  fake.setScript([]);
  fake.requests.length = 0;
});

const embeddingRequests = () => fake.requests.filter((r) => r.input !== undefined);

describe('session check in one query', () => {
  it('refuses the session of a deactivated user and of a suspended team, and accepts it again once restored', async () => {
    const team = await signupTeam();
    expect((await validateSessionToken(team.token))?.user).toMatchObject({ id: team.userId, role: 'owner' });

    await rows('UPDATE core_user SET is_active = false WHERE id = :id', { id: team.userId });
    expect(await validateSessionToken(team.token)).toBeNull();
    await rows('UPDATE core_user SET is_active = true WHERE id = :id', { id: team.userId });

    await rows(`UPDATE core_tenant SET status = 'suspended' WHERE id = :id`, { id: team.tenantId });
    expect(await validateSessionToken(team.token)).toBeNull();
    await rows(`UPDATE core_tenant SET status = 'active' WHERE id = :id`, { id: team.tenantId });

    expect((await validateSessionToken(team.token))?.tenant).toEqual({ id: team.tenantId, status: 'active' });
  });
});

describe('storing the user message', () => {
  it('refuses a conversation deleted after it was checked, and stores nothing', async () => {
    const team = await signupTeam();
    const first = await chat(team.token, { message: 'Start a conversation.' });
    const context = await loadTurnContext(team, { id: first.conversationId, channel: 'web', firstText: 'again' });
    expect(context.conversation).toMatchObject({ id: first.conversationId, created: false });

    await rows('DELETE FROM agents_conversation WHERE id = :id', { id: first.conversationId });
    const id = crypto.randomUUID();
    await expect(
      storeUserMessage(team, 'web', context.conversation, { id, role: 'user', parts: [{ type: 'text', text: 'again' }] }),
    ).rejects.toMatchObject({ code: 'conversation_not_found', status: 404 });
    expect(await rows('SELECT id FROM agents_interaction WHERE id = :id', { id })).toEqual([]);
  });

  it('stores a message full of SQL and escape characters exactly as written', async () => {
    const team = await signupTeam();
    const text = `O'Brien said "hi" \\ \\\\ $1 $9::jsonb '); DROP TABLE agents_interaction; -- \u00e9\u{1F600} E'\\x41' \t tab`;
    const { conversationId } = await chat(team.token, { message: text });
    const [stored] = await rows<{ data: { parts: { text: string }[] } }>(
      `SELECT data FROM agents_interaction WHERE conversation_id = :id AND interaction_type = 'message' ORDER BY created_at LIMIT 1`,
      { id: conversationId },
    );
    expect(stored!.data.parts[0]!.text).toBe(text.trim());
    const [conversation] = await rows<{ title: string }>('SELECT title FROM agents_conversation WHERE id = :id', { id: conversationId });
    expect(conversation!.title.startsWith(`O'Brien said "hi" \\`)).toBe(true);
  });

  it('never lets a turn context name another user’s conversation', async () => {
    const team = await signupTeam();
    const other = await signupTeam();
    const theirs = await chat(other.token, { message: 'Mine.' });
    await expect(loadTurnContext(team, { id: theirs.conversationId, channel: 'web', firstText: 'x' })).rejects.toMatchObject({
      code: 'conversation_not_found',
    });
  });
});

describe('recall embeddings', () => {
  it('by default embeds locally: a turn makes no embeddings request before (or after) the model call, and recall still works', async () => {
    const team = await signupTeam();
    fake.setScript([{ text: 'Noted: the quarterly board meeting is in Lisbon.' }, { text: 'It is in Lisbon.' }]);
    await chat(team.token, { message: 'Remember that the quarterly board meeting is in Lisbon this year.' });
    const second = await chat(team.token, { message: 'Where is the quarterly board meeting?' });
    expect(textOf(second.message)).toBe('It is in Lisbon.');

    expect(embeddingRequests()).toEqual([]);
    const chats = fake.requests.filter((r) => Array.isArray(r.messages));
    expect(chats[1]!.messages[0].content).toContain('Lisbon'); // the first conversation, recalled in the system prompt
    const stored = await rows<{ embedded: boolean }>(
      `SELECT embedding IS NOT NULL AS embedded FROM agents_interaction WHERE tenant_id = :t AND interaction_type = 'message'`,
      { t: team.tenantId },
    );
    expect(stored.length).toBe(4);
    expect(stored.every((r) => r.embedded)).toBe(true);
  });

  it('with RECALL_EMBEDDER=provider uses the embedding model, and texts embedded in the same tick share one request', async () => {
    setConfig(testConfig({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', CHAT_MODEL: 'gpt-test', RECALL_EMBEDDER: 'provider' }));
    const vectors = await Promise.all(['alpha', 'beta', 'gamma', 'delta'].map((t) => embedText(t)));
    expect(vectors.every((v) => v?.length === 384)).toBe(true);
    expect(new Set(vectors.map((v) => v!.join())).size).toBe(4);
    expect(embeddingRequests().map((r) => r.input)).toEqual([['alpha', 'beta', 'gamma', 'delta']]);
  });
});

describe('write coalescing', () => {
  it('holds only a delta that follows a delta', () => {
    const mayWait = deltaRun();
    const chunks: UIMessageChunk[] = [
      { type: 'start' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'a' },
      { type: 'text-delta', id: 't', delta: 'b' },
      { type: 'text-delta', id: 't', delta: 'c' },
      { type: 'text-end', id: 't' },
      { type: 'text-start', id: 'u' },
      { type: 'text-delta', id: 'u', delta: 'd' },
      { type: 'finish' },
    ];
    expect(chunks.map(mayWait)).toEqual([false, false, false, true, true, false, false, false, false]);
  });

  it('sends what was written while held in one piece, in order, and nothing is lost', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = new Socket();
    client.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const [peer] = (await accepted) as [Socket];
    const reads: string[] = [];
    peer.on('data', (d: Buffer) => reads.push(d.toString()));

    hold(client, 40);
    for (let i = 0; i < 20; i++) client.write(`${i};`);
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toEqual([]); // still held
    await new Promise((r) => setTimeout(r, 60));
    expect(reads.join('')).toBe(Array.from({ length: 20 }, (_, i) => `${i};`).join(''));
    expect(reads.length).toBe(1);

    client.write('after;'); // not held: leaves at once
    await new Promise((r) => setTimeout(r, 20));
    expect(reads.join('').endsWith('after;')).toBe(true);
    client.destroy();
    peer.destroy();
    server.close();
  });
});
