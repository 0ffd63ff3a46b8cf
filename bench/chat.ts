// Chat benchmark (`npm run bench:chat`): what the service adds to time-to-first-token over calling
// `streamText` directly on the same OpenAI-compatible server, over HTTP (POST /api/chat, SSE) and over
// Socket.IO; chunks lost or reordered on the way; and the server memory held per idle connected socket
// (clients in a child process, heap measured after gc).
// Runs on PostgreSQL: DATABASE_URL, or a fresh local `fs_bench` database (created here, with pgvector).
// Three processes, so no side pays for another's CPU: the provider (the fake OpenAI-compatible server),
// the service (this one: startServer), and a load generator running every client, the direct
// `streamText` calls included. Three ways to be concurrent:
//   1              one conversation, turn after turn (20 chunks 5 ms apart);
//   100 burst      100 conversations sending in the same millisecond, 4 rounds (20 chunks 5 ms apart):
//                  the worst case, CPU-bound on every side; shown with the "floor", a bare Socket.IO
//                  server in the service process that only calls streamText and emits its chunks;
//   100 sustained  100 conversations chatting at once: replies streamed at an LLM's pace (40 chunks 50 ms
//                  apart), the next message 0–1 s after each reply, most replies streaming at any moment;
//                  with the floor too, which tells how much of the added TTFT this machine's CPUs alone cost.
// BENCH_ONLY=socket,http,floor limits the paths (direct always runs); BENCH_SUSTAINED_SECONDS (20);
// BENCH_SKIP_BURST=1 runs the sustained scenario only.
//
// Targets (issue 3): added TTFT p50 ≤ 15 ms and p99 ≤ 50 ms at 100 concurrent; ≤ 64 KB per idle socket.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { createOpenAI } from '@ai-sdk/openai';
import { streamText } from 'ai';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { mulberry32 } from '../tests/support/random.js';

const CHUNKS = 20;
const CHUNK_DELAY_MS = 5;
const WORDS = Array.from({ length: CHUNKS }, (_, i) => `${i === 0 ? '' : ' '}tok${i}`);
const EXPECTED = WORDS; // the fake streams word by word: exactly these deltas, in this order
const ROUNDS = { 1: 60, 100: 4 } as const; // 60 turns one after another at 1; 4 rounds of 100 at once at 100
// Sustained: 100 conversations open at once, every reply streamed at an LLM's pace (40 chunks 50 ms
// apart: 2 s), each user sending the next message 0–1 s after the reply ends, so most of the 100 replies
// are streaming at any moment and new turns start all the time. Measured after a warm-up.
const SUSTAINED = {
  conversations: 100,
  chunks: 40,
  delayMs: 50,
  thinkMs: 1000,
  warmupS: Number(process.env.BENCH_SUSTAINED_WARMUP ?? 5),
  seconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 20),
  prompt: 'Keep talking.',
};
const SUSTAINED_WORDS = Array.from({ length: SUSTAINED.chunks }, (_, i) => `${i === 0 ? '' : ' '}word${i}`);
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const gc = exposeGc();
  const databaseUrl = await benchDatabase();
  const provider = await startChild(['provider'], {});
  const providerUrl = provider.ready;
  // The service reads its configuration through config(): load the modules once the database exists.
  const { loadConfig } = await import('../src/config.js');
  await import('../src/features.js');
  const { startServer } = await import('../src/server.js');
  const cfg = loadConfig({
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    OPENAI_BASE_URL: providerUrl,
    OPENAI_API_KEY: 'bench',
    CHAT_MODEL: 'bench-model',
    CHAT_TURNS_PER_MINUTE: '10000',
    CHAT_CONCURRENT_TURNS: '100',
    DB_POOL_MAX: process.env.DB_POOL_MAX ?? '20',
    RUN_WORKERS: 'false', // background workers (document/KB queues) are not part of a chat turn
  });
  const server = await startServer(cfg);
  const floor = await startFloorServer(providerUrl);
  console.log(`\nchat benchmark — Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`database: ${redact(databaseUrl)} (PostgreSQL)${cfg.REDIS_URL ? `, redis: ${cfg.REDIS_URL}` : ', no Redis (in-process hub)'}`);
  console.log(`provider: local OpenAI-compatible server (own process), ${CHUNKS} chunks ${CHUNK_DELAY_MS} ms apart`);
  console.log(`service: ${server.url} (this process); clients: a load-generator process\n`);

  const users = await benchUsers(100);
  // The load generator runs every client (direct streamText, HTTP, sockets) in its own process and
  // announces each measured phase, so the service's own CPU per turn is measured here.
  const serviceCpu = new Map<string, number>();
  // How long the service's event loop was late: what every turn waiting on it waited.
  const serviceLoop = new Map<string, { p99: number; max: number }>();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let phaseCpu = process.cpuUsage();
  const load = await startChild(['load'], { BENCH_URL: server.url, BENCH_FLOOR_URL: floor.url, BENCH_PROVIDER_URL: providerUrl, BENCH_TOKENS: users.map((u) => u.token).join(',') }, (line) => {
    const [event, key] = line.split(' ');
    if (event === 'PHASE_START') {
      phaseCpu = process.cpuUsage();
      loopDelay.reset();
    }
    if (event === 'PHASE_END') {
      const used = process.cpuUsage(phaseCpu);
      serviceCpu.set(key!, (used.user + used.system) / 1000);
      serviceLoop.set(key!, { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 });
    }
  });
  const [, result] = await Promise.all([load.exited, load.result]);
  const rows = (JSON.parse(result) as Row[]).map((r) => ({ ...r, serviceCpuMsPerTurn: (serviceCpu.get(`${r.mode}@${r.scenario === 'sustained' ? 'sustained' : r.concurrency}`) ?? 0) / r.samples.length }));
  printTurns(rows);
  console.log(
    `service event-loop delay p99 / max: ${[...serviceLoop].filter(([k]) => !k.startsWith('direct')).map(([k, v]) => `${k} ${v.p99.toFixed(0)}/${v.max.toFixed(0)} ms`).join(', ')}`,
  );
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const memory = await idleSocketMemory(server.url, users, gc);
  printMemory(memory);

  await floor.close();
  await server.close();
  provider.stop();
  process.exit(0);
}

/** The provider: the fake OpenAI-compatible server in its own process. */
async function providerProcess() {
  const { startFakeOpenAI } = await import('../tests/support/fake-openai-server.js');
  // Scripted usage: the fake does not tokenize prompts before its first chunk (that would be its cost, not ours).
  const fake = await startFakeOpenAI({
    script: (body) =>
      JSON.stringify(body.messages.at(-1)).includes(SUSTAINED.prompt)
        ? { text: SUSTAINED_WORDS.join(''), delayMs: SUSTAINED.delayMs, usage: { prompt_tokens: 60, completion_tokens: SUSTAINED.chunks } }
        : { text: WORDS.join(''), delayMs: CHUNK_DELAY_MS, usage: { prompt_tokens: 60, completion_tokens: CHUNKS } },
  });
  process.stdout.write(`READY ${fake.url}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await fake.close();
  process.exit(0);
}

/** The load generator: measures every path and prints the samples as one JSON line. */
async function loadProcess() {
  const url = process.env.BENCH_URL!;
  const users: BenchUser[] = process.env.BENCH_TOKENS!.split(',').map((token) => ({ token, userId: '' }));
  const openai = createOpenAI({ baseURL: process.env.BENCH_PROVIDER_URL!, apiKey: 'bench' });
  const results: Row[] = [];
  const only = process.env.BENCH_ONLY?.split(',');
  const phase = async (mode: Row['mode'], rounds: number, concurrency: number, turn: (i: number) => Promise<TurnSample>) => {
    if (only && mode !== 'direct' && !only.includes(mode)) return;
    if (concurrency > 1) await runRounds(1, concurrency, turn); // one unmeasured round: every path measured warm
    process.stdout.write(`PHASE_START ${mode}@${concurrency}\n`);
    const row = await runRounds(rounds, concurrency, turn);
    process.stdout.write(`PHASE_END ${mode}@${concurrency}\n`);
    results.push({ mode, concurrency, scenario: 'burst', ...row });
  };

  // Warm-up: tokenizer tables, connections, JIT.
  await runRounds(5, 1, () => directTurn(openai));
  await runRounds(5, 1, () => httpTurn(url, users[0]!));

  for (const concurrency of process.env.BENCH_SKIP_BURST ? [] : ([1, 100] as const)) {
    const rounds = ROUNDS[concurrency];
    await phase('direct', rounds, concurrency, () => directTurn(openai));
    newConversations(users);
    await phase('http', rounds, concurrency, (i) => httpTurn(url, users[i]!));
    newConversations(users);
    const sockets = await Promise.all(users.slice(0, concurrency).map((u) => connectSocket(url, u)));
    await phase('socket', rounds, concurrency, (i) => socketTurn(sockets[i]!));
    for (const s of sockets) s.socket.disconnect();
    newConversations(users);
    const floorSockets = await Promise.all(users.slice(0, concurrency).map((u) => connectSocket(process.env.BENCH_FLOOR_URL!, u)));
    await phase('floor', rounds, concurrency, (i) => socketTurn(floorSockets[i]!));
    for (const s of floorSockets) s.socket.disconnect();
  }

  const sustained = async (mode: Row['mode'], turn: (i: number) => Promise<TurnSample>) => {
    if (only && mode !== 'direct' && !only.includes(mode)) return;
    const row = await runSustained(mode, turn);
    results.push({ mode, concurrency: SUSTAINED.conversations, scenario: 'sustained', ...row });
  };
  await sustained('direct', () => directTurn(openai, SUSTAINED.prompt));
  newConversations(users);
  await sustained('http', (i) => httpTurn(url, users[i]!, SUSTAINED.prompt));
  newConversations(users);
  const sockets = await Promise.all(users.map((u) => connectSocket(url, u)));
  await sustained('socket', (i) => socketTurn(sockets[i]!, SUSTAINED.prompt));
  for (const s of sockets) s.socket.disconnect();
  if (!only || only.includes('floor')) {
    const floorSockets = await Promise.all(users.map((u) => connectSocket(process.env.BENCH_FLOOR_URL!, u)));
    await sustained('floor', (i) => socketTurn(floorSockets[i]!, SUSTAINED.prompt));
    for (const s of floorSockets) s.socket.disconnect();
  }
  // Writes to a pipe are asynchronous: exit only once the (large) line is flushed.
  process.stdout.write(`RESULT ${JSON.stringify(results)}\n`, () => process.exit(0));
}

/** This script in another process (`node --import tsx bench/chat.ts <role>`), read line by line. */
async function startChild(args: string[], env: Record<string, string>, onLine?: (line: string) => void) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let ready!: (v: string) => void;
  let result!: (v: string) => void;
  const readyP = new Promise<string>((r) => (ready = r));
  const resultP = new Promise<string>((r) => (result = r));
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('READY ')) ready(line.slice(6));
      else if (line.startsWith('RESULT ')) result(line.slice(7));
      else onLine?.(line);
    }
  });
  // 'close', not 'exit': the last lines of output may still be unread when the process exits.
  const exited = new Promise<void>((resolve, reject) =>
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`bench ${args[0]} process exited with ${code}`)))),
  );
  exited.catch(() => {});
  const failed = exited.then(() => Promise.reject(new Error(`bench ${args[0]} process ended early`)));
  failed.catch(() => {});
  return {
    ready: args[0] === 'provider' ? await Promise.race([readyP, failed]) : '',
    result: Promise.race([resultP, failed]),
    exited,
    stop: () => child.stdin!.end(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The floor: what any service built on this stack pays before it could add anything of its own. A bare
// Socket.IO server in the service process whose handler only calls streamText on the same provider and
// emits each UI message chunk (no auth, no database, no memory, no metering). The service's own cost is
// its TTFT over this floor; the floor's over direct is the AI SDK + Socket.IO in a second process.

async function startFloorServer(providerUrl: string) {
  const { createServer } = await import('node:http');
  const { Server } = await import('socket.io');
  const http = createServer();
  const ioServer = new Server(http, { serveClient: false });
  const openai = createOpenAI({ baseURL: providerUrl, apiKey: 'bench' });
  ioServer.of('/chat').on('connection', (socket) => {
    socket.on('message:send', async (payload: { text: string }, ack?: (r: unknown) => void) => {
      ack?.({ ok: true, conversationId: 'floor' });
      const result = streamText({ model: openai.chat('bench-model'), prompt: payload.text, maxRetries: 0 });
      let seq = 0;
      for await (const chunk of result.toUIMessageStream()) socket.emit('chat:chunk', { conversationId: 'floor', seq: seq++, chunk });
      socket.emit('chat:done', { conversationId: 'floor', status: 'complete' });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => ioServer.close(() => r())) };
}

// ---------------------------------------------------------------------------------------------------------
// Turns

interface TurnSample {
  ttftMs: number;
  /** Started inside the sustained measurement window. */
  measured?: boolean;
  deltas: string[];
  seqs?: number[];
}
interface Row {
  mode: 'direct' | 'http' | 'socket' | 'floor';
  concurrency: number;
  scenario: 'burst' | 'sustained';
  /** Sustained: replies streaming at once, on average over the window. */
  meanInFlight?: number;
  samples: TurnSample[];
  wallMs: number;
  /** The load generator's CPU per turn (the clients). */
  clientCpuMsPerTurn: number;
  /** The service process's CPU per turn (nothing for the direct path: it bypasses the service). */
  serviceCpuMsPerTurn?: number;
}

/**
 * `rounds` rounds of `concurrency` conversations each sending a message at the same moment; the next
 * round starts when every reply is complete. turn(i) gets the conversation's index.
 */
async function runRounds(rounds: number, concurrency: number, turn: (i: number) => Promise<TurnSample>) {
  const samples: TurnSample[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) samples.push(...(await Promise.all(Array.from({ length: concurrency }, (_, i) => turn(i)))));
  const used = process.cpuUsage(cpu);
  return { samples, wallMs: performance.now() - started, clientCpuMsPerTurn: (used.user + used.system) / 1000 / samples.length };
}

/** The sustained scenario (see SUSTAINED): turns started inside the window are the samples. */
async function runSustained(mode: Row['mode'], turn: (i: number) => Promise<TurnSample>) {
  const random = mulberry32(42);
  const t0 = performance.now();
  const from = t0 + SUSTAINED.warmupS * 1000;
  const until = from + SUSTAINED.seconds * 1000;
  const samples: TurnSample[] = [];
  let inFlight = 0;
  let inFlightSum = 0;
  let ticks = 0;
  const sampler = setInterval(() => {
    const now = performance.now();
    if (now >= from && now < until) {
      inFlightSum += inFlight;
      ticks++;
    }
  }, 50);
  let cpu = process.cpuUsage();
  const startWindow = setTimeout(() => {
    process.stdout.write(`PHASE_START ${mode}@sustained\n`);
    cpu = process.cpuUsage();
  }, from - t0);
  let used = { user: 0, system: 0 };
  const endWindow = setTimeout(() => {
    process.stdout.write(`PHASE_END ${mode}@sustained\n`);
    used = process.cpuUsage(cpu);
  }, until - t0);
  await Promise.all(
    Array.from({ length: SUSTAINED.conversations }, async (_, i) => {
      // Starts spread over one reply's length, so the conversations do not move in step.
      await sleep(random() * SUSTAINED.chunks * SUSTAINED.delayMs);
      while (performance.now() < until) {
        const started = performance.now();
        inFlight++;
        const sample = await turn(i);
        inFlight--;
        if (started >= from && started < until) samples.push(sample);
        await sleep(random() * SUSTAINED.thinkMs);
      }
    }),
  );
  clearInterval(sampler);
  clearTimeout(startWindow);
  clearTimeout(endWindow);
  return {
    samples,
    wallMs: SUSTAINED.seconds * 1000,
    clientCpuMsPerTurn: (used.user + used.system) / 1000 / samples.length,
    meanInFlight: ticks ? inFlightSum / ticks : 0,
  };
}

async function directTurn(openai: ReturnType<typeof createOpenAI>, prompt = 'Say twenty words.'): Promise<TurnSample> {
  const t0 = performance.now();
  let ttft = -1;
  const deltas: string[] = [];
  const result = streamText({ model: openai.chat('bench-model'), prompt, maxRetries: 0 });
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') {
      if (ttft < 0) ttft = performance.now() - t0;
      deltas.push(part.text);
    } else if (part.type === 'error') throw part.error;
  }
  return { ttftMs: ttft, deltas };
}

interface BenchUser {
  token: string;
  userId: string;
  conversationId?: string;
}
/** Each mode starts fresh conversations, so histories (and prompts) are alike across modes. */
const newConversations = (users: BenchUser[]) => users.forEach((u) => (u.conversationId = undefined));

async function httpTurn(url: string, user: BenchUser, text = 'Say twenty words.'): Promise<TurnSample> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...(user.conversationId ? { id: user.conversationId } : {}), message: text }),
  });
  if (!res.ok) throw new Error(`POST /api/chat: ${res.status} ${await res.text()}`);
  user.conversationId = res.headers.get('x-conversation-id')!;
  let ttft = -1;
  const deltas: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.startsWith('data: ') ? event.slice(6) : '';
      if (!data || data === '[DONE]') continue;
      const chunk = JSON.parse(data) as { type: string; delta?: string; errorText?: string };
      if (chunk.type === 'text-delta') {
        if (ttft < 0) ttft = performance.now() - t0;
        deltas.push(chunk.delta!);
      } else if (chunk.type === 'error') throw new Error(chunk.errorText);
    }
  }
  return { ttftMs: ttft, deltas };
}

interface BenchSocket {
  socket: Socket;
  user: BenchUser;
  onChunk?: (e: { seq: number; chunk: { type: string; delta?: string } }) => void;
  onDone?: (e: { status: string }) => void;
}

async function connectSocket(url: string, user: BenchUser): Promise<BenchSocket> {
  const socket = io(`${url}/chat`, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const s: BenchSocket = { socket, user };
  socket.on('chat:chunk', (e) => s.onChunk?.(e));
  socket.on('chat:done', (e) => s.onDone?.(e));
  await connected(socket);
  return s;
}

const connected = (socket: Socket) =>
  new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });

function socketTurn(s: BenchSocket, text = 'Say twenty words.'): Promise<TurnSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttft = -1;
    const deltas: string[] = [];
    const seqs: number[] = [];
    s.onChunk = ({ seq, chunk }) => {
      seqs.push(seq);
      if (chunk.type === 'text-delta') {
        if (ttft < 0) ttft = performance.now() - t0;
        deltas.push(chunk.delta!);
      }
    };
    s.onDone = ({ status }) => {
      s.onChunk = s.onDone = undefined;
      if (status !== 'complete') reject(new Error(`socket turn ended ${status}`));
      else resolve({ ttftMs: ttft, deltas, seqs });
    };
    s.socket.emit('message:send', { ...(s.user.conversationId ? { conversationId: s.user.conversationId } : {}), text }, (ack: { ok: boolean; conversationId?: string; error?: unknown }) => {
      if (!ack.ok) reject(new Error(`message:send refused: ${JSON.stringify(ack.error)}`));
      else s.user.conversationId = ack.conversationId;
    });
  });
}

/** Chunks of the provider's reply missing from what the client got, and ones out of place. */
function integrity(samples: TurnSample[], expected: string[]) {
  const EXPECTED = expected;
  let lost = 0;
  let reordered = 0;
  for (const s of samples) {
    const got = new Map<string, number>();
    s.deltas.forEach((d, i) => got.set(d, i));
    lost += EXPECTED.filter((d) => !got.has(d)).length;
    const order = EXPECTED.filter((d) => got.has(d)).map((d) => got.get(d)!);
    reordered += order.filter((pos, i) => i > 0 && pos < order[i - 1]!).length;
    if (s.seqs) reordered += s.seqs.filter((q, i) => q !== i).length; // socket sequence numbers: no gap, no swap
    lost += Math.max(0, s.deltas.length - EXPECTED.length); // duplicates count as damage too
  }
  return { lost, reordered };
}

// ---------------------------------------------------------------------------------------------------------
// Idle sockets: N clients in a child process; the server's heap + external memory after gc, before/after.

async function idleSocketMemory(url: string, users: BenchUser[], gc: () => void) {
  const measure = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    const m = process.memoryUsage();
    return { heap: m.heapUsed + m.external, rss: m.rss }; // external includes arrayBuffers
  };
  const before = await measure();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'clients'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_URL: url, BENCH_TOKENS: users.map((u) => u.token).join(','), BENCH_IDLE_SOCKETS: String(IDLE_SOCKETS) },
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`socket clients exited with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 500)); // let the handshakes' transient allocations settle
  const after = await measure();
  child.stdin!.end('close\n');
  await once(child, 'exit');
  return { n: IDLE_SOCKETS, heapPerSocket: (after.heap - before.heap) / IDLE_SOCKETS, rssPerSocket: (after.rss - before.rss) / IDLE_SOCKETS };
}

async function idleClients() {
  const url = process.env.BENCH_URL!;
  const tokens = process.env.BENCH_TOKENS!.split(',');
  const n = Number(process.env.BENCH_IDLE_SOCKETS);
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) => {
      const socket = io(`${url}/chat`, { auth: { token: tokens[(i + j) % tokens.length] }, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      return connected(socket);
    });
    await Promise.all(batch);
  }
  process.stdout.write('READY\n');
  process.stdin.resume();
  await once(process.stdin, 'end');
  for (const s of sockets) s.disconnect();
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Set-up

function exposeGc(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** DATABASE_URL, or a fresh `fs_bench` database on the local PostgreSQL with pgvector. */
async function benchDatabase(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`bench:chat needs PostgreSQL: set DATABASE_URL, or start one on 127.0.0.1:5432 (bash scripts/ci-services.sh). ${(err as Error).message}`);
  }
  await admin.query('DROP DATABASE IF EXISTS fs_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE fs_bench');
  await admin.end();
  const url = 'postgres://postgres@127.0.0.1:5432/fs_bench';
  const bench = new pg.Client({ connectionString: url });
  await bench.connect();
  await bench.query('CREATE EXTENSION vector');
  await bench.end();
  return url;
}

/** One team with `n` signed-in users and plenty of tokens. */
async function benchUsers(n: number): Promise<BenchUser[]> {
  const { signup } = await import('../src/auth/signup.js');
  const { createSession } = await import('../src/auth/sessions.js');
  const { creditTokens } = await import('../src/billing/ledger.js');
  const { db } = await import('../src/db/index.js');
  const { User } = await import('../src/db/models/index.js');
  const { hashPassword } = await import('../src/auth/password.js');
  const password = 'Bench-Password-Strong-42';
  const { tenant, user, session } = await signup({ tenantName: 'Bench team', email: `owner-${Date.now()}@bench.test`, password }, {});
  await db().query('UPDATE core_tenant SET max_users = :n WHERE id = :id', { replacements: { n: n + 1, id: tenant.id } });
  await creditTokens({ tenantId: tenant.id, tokens: 1_000_000_000, operation: 'bench_credit' });
  const passwordHash = await hashPassword(password);
  const users: BenchUser[] = [{ token: session.token, userId: user.id }];
  for (let i = 1; i < n; i++) {
    const u = await User.create({ tenantId: tenant.id, email: `member-${i}-${Date.now()}@bench.test`, passwordHash, role: 'member' });
    users.push({ token: (await createSession(u, {})).token, userId: u.id });
  }
  return users;
}

// ---------------------------------------------------------------------------------------------------------
// Report

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const pad = (s: string | number, n: number) => String(s).padStart(n);

function printTurns(rows: Row[]) {
  const label = (r: Row) => (r.scenario === 'sustained' ? '100 sustained' : r.concurrency === 1 ? '1' : '100 burst');
  const expected = (r: Row) => (r.scenario === 'sustained' ? SUSTAINED_WORDS : EXPECTED);
  const directOf = (r: Row) => rows.find((d) => d.mode === 'direct' && d.scenario === r.scenario && d.concurrency === r.concurrency);
  console.log(
    `${'path'.padEnd(8)}${'conversations'.padEnd(15)}${pad('turns', 6)}${pad('TTFT p50', 11)}${pad('TTFT p99', 11)}${pad('added p50', 11)}${pad('added p99', 11)}` +
      `${pad('lost', 6)}${pad('reord', 7)}${pad('turns/s', 9)}${pad('streaming', 11)}${pad('svc CPU/turn', 14)}`,
  );
  for (const r of rows) {
    const ttft = r.samples.map((s) => s.ttftMs);
    const dt = directOf(r)?.samples.map((s) => s.ttftMs);
    const { lost, reordered } = integrity(r.samples, expected(r));
    const added = r.mode === 'direct' || !dt ? ['—', '—'] : [ms(pct(ttft, 50) - pct(dt, 50)), ms(pct(ttft, 99) - pct(dt, 99))];
    console.log(
      `${r.mode.padEnd(8)}${label(r).padEnd(15)}${pad(r.samples.length, 6)}${pad(ms(pct(ttft, 50)), 11)}${pad(ms(pct(ttft, 99)), 11)}` +
        `${pad(added[0]!, 11)}${pad(added[1]!, 11)}${pad(lost, 6)}${pad(reordered, 7)}${pad((r.samples.length / (r.wallMs / 1000)).toFixed(1), 9)}` +
        `${pad(r.meanInFlight !== undefined ? r.meanInFlight.toFixed(0) : '—', 11)}${pad(r.mode === 'direct' ? '—' : ms(r.serviceCpuMsPerTurn ?? 0), 14)}`,
    );
  }
  for (const r of rows.filter((x) => (x.mode === 'http' || x.mode === 'socket') && x.concurrency === 100)) {
    const dt = directOf(r)!.samples.map((s) => s.ttftMs);
    const t = r.samples.map((s) => s.ttftMs);
    const p50 = pct(t, 50) - pct(dt, 50);
    const p99 = pct(t, 99) - pct(dt, 99);
    console.log(
      `target ${r.mode} @${label(r)}: added p50 ${ms(p50)} ${p50 <= 15 ? '≤' : '>'} 15 ms, p99 ${ms(p99)} ${p99 <= 50 ? '≤' : '>'} 50 ms → ${p50 <= 15 && p99 <= 50 ? 'met' : 'MISSED'}`,
    );
  }
  for (const r of rows.filter((x) => x.mode === 'floor' && x.concurrency === 100)) {
    const dt = directOf(r)!.samples.map((s) => s.ttftMs);
    const t = r.samples.map((s) => s.ttftMs);
    console.log(
      `floor @${label(r)} (streamText + Socket.IO alone, no service): adds p50 ${ms(pct(t, 50) - pct(dt, 50))}, p99 ${ms(pct(t, 99) - pct(dt, 99))} on this machine`,
    );
  }
  const damaged = rows.reduce((a, r) => {
    const i = integrity(r.samples, expected(r));
    return a + i.lost + i.reordered;
  }, 0);
  console.log(`chunks lost or reordered: ${damaged} ${damaged === 0 ? '(target 0: met)' : '(target 0: MISSED)'}`);
}

function printMemory(m: { n: number; heapPerSocket: number; rssPerSocket: number }) {
  const kb = m.heapPerSocket / 1024;
  console.log(
    `idle sockets: ${m.n} connected from a child process; server heap+external ${kb.toFixed(1)} KB/socket ` +
      `(rss ${(m.rssPerSocket / 1024).toFixed(1)} KB/socket) → target ≤ 64 KB ${kb <= 64 ? 'met' : 'MISSED'}\n`,
  );
}

function redact(url: string) {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

// Last, so every module-level constant above is initialised before it runs.
const role = process.argv[2];
if (role === 'clients') await idleClients();
else if (role === 'provider') await providerProcess();
else if (role === 'load') await loadProcess();
else await main();
