// Two service instances, each in its own process, sharing one Redis and one PostgreSQL: a user's socket on
// instance A gets the turn that instance B runs, a reload on A re-attaches to it, and an abort sent to A
// stops it on B. The provider is the local OpenAI-compatible server (slow streams). Runs when REDIS_URL is set.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';
import { signupTeam, useTestApp } from '../support/harness.js';
import { chunkStream, deltas, readChunks, rows } from './support/chat.js';
import { connectChat, turnChunks, type ChatClient } from './support/sockets.js';
import type { UIMessageChunk } from 'ai';

interface Instance {
  url: string;
  child: ChildProcess;
}

function startInstance(env: Record<string, string>): Promise<Instance> {
  const script = fileURLToPath(new URL('./support/instance.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance did not start in time: ${err}`));
    }, 30_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/READY (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code}: ${err}`));
    });
  });
}

function stopInstance(i: Instance | undefined): Promise<void> {
  if (!i || i.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => i.child.kill('SIGKILL'), 5000);
    i.child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    i.child.kill('SIGTERM');
  });
}

describe.skipIf(!process.env.REDIS_URL)('two instances sharing Redis and PostgreSQL', () => {
  useTestApp();
  let fake: FakeOpenAI;
  let a: Instance | undefined;
  let b: Instance | undefined;
  const sockets: ChatClient[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', OPENAI_BASE_URL: fake.url, CHAT_MODEL: 'gpt-test', DB_POOL_MAX: '5' };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await fake?.close();
  });

  const postOn = (instance: Instance, token: string, body: unknown) =>
    fetch(`${instance.url}/api/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('delivers a turn run on B to the user’s socket on A, and GET …/stream on A re-attaches to it', async () => {
    const team = await signupTeam();
    const words = Array.from({ length: 30 }, (_, i) => `m${i}`).join(' ');
    fake.setScript([{ text: words, delayMs: 20 }]);
    const tab = await connectChat(a!.url, team.token);
    sockets.push(tab);

    const res = await postOn(b!, team.token, { message: 'Run this on instance B' });
    expect(res.status).toBe(200);
    const conversationId = res.headers.get('x-conversation-id')!;
    const messageId = res.headers.get('x-message-id')!;
    const original = chunkStream(res.body!).getReader();
    const fromB: UIMessageChunk[] = [];
    while (fromB.filter((c) => c.type === 'text-delta').length < 3) fromB.push((await original.read()).value!);

    // A reload lands on instance A while B is still writing.
    const reattached = await fetch(`${a!.url}/api/chat/${conversationId}/stream`, { headers: { authorization: `Bearer ${team.token}` } });
    expect(reattached.status).toBe(200);
    const [viaA, restOfB] = await Promise.all([readChunks(reattached), (async () => {
      for (;;) {
        const { value, done } = await original.read();
        if (done) return;
        fromB.push(value);
      }
    })()]);
    void restOfB;
    expect(viaA).toEqual(fromB);
    expect(deltas(viaA)).toBe(words);

    const done = await tab.waitDone(conversationId);
    expect(done).toMatchObject({ messageId, status: 'complete' });
    expect(turnChunks(tab, conversationId)).toEqual(fromB);
    expect((await fetch(`${a!.url}/api/chat/${conversationId}/stream`, { headers: { authorization: `Bearer ${team.token}` } })).status).toBe(204);
  });

  it('stops a turn running on B when the abort is sent to A', async () => {
    const team = await signupTeam();
    fake.setScript([{ text: Array.from({ length: 200 }, (_, i) => `s${i}`).join(' '), delayMs: 20 }]);
    const tab = await connectChat(a!.url, team.token);
    sockets.push(tab);

    const res = await postOn(b!, team.token, { message: 'A very long answer from B' });
    const conversationId = res.headers.get('x-conversation-id')!;
    const messageId = res.headers.get('x-message-id')!;
    await tab.waitChunks(conversationId, 6);
    const abort = await fetch(`${a!.url}/api/chat/${conversationId}/abort`, { method: 'POST', headers: { authorization: `Bearer ${team.token}` } });
    expect(await abort.json()).toEqual({ aborted: true });

    const done = await tab.waitDone(conversationId);
    expect(done.status).toBe('aborted');
    const fromB = await readChunks(res);
    expect(fromB.some((c) => c.type === 'abort')).toBe(true);
    expect(deltas(fromB).split(' ').length).toBeLessThan(200);
    const [stored] = await rows<{ status: string }>(`SELECT data->'metadata'->>'status' AS status FROM agents_interaction WHERE id = :messageId`, { messageId });
    expect(stored?.status).toBe('aborted');
  });

  it('counts the per-user concurrency limit across instances', async () => {
    const team = await signupTeam();
    fake.setScript(() => ({ text: Array.from({ length: 60 }, (_, i) => `c${i}`).join(' '), delayMs: 10 }));
    const first = await postOn(a!, team.token, { message: 'one on A' });
    const second = await postOn(b!, team.token, { message: 'two on B' });
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await postOn(a!, team.token, { message: 'three on A' });
    expect(third.status).toBe(429);
    expect((await third.json()).error.code).toBe('too_many_concurrent_turns');
    await Promise.all([readChunks(first), readChunks(second)]);
  });
});
