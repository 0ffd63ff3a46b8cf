// tools/call round trips per second and p50/p99 latency for a read-only tool (list_preferences) over
// Streamable HTTP with 50 concurrent clients: FlowSpark's /mcp (Host/Origin check, API-key auth on
// every request, per-caller tool list, metering and audit rows) against the SDK's own minimal server
// (createMcpHandler with one tool doing the same database read, no auth, no metering), in the same run,
// on the same database. The ratio is the figure (target ≤ 1.5×).
//
// Both servers run in a child process and the clients in this one, so the figures also give the
// servers' CPU time per call (process.cpuUsage of the child; with the embedded engine that includes
// the database's own work, since PGlite runs inside the server process). CPU per call barely moves when
// other programs load the machine, unlike throughput, so its ratio is the steadier figure.
//
//   npm run bench:mcp            embedded engine (PGlite), or PostgreSQL when DATABASE_URL is set
//   BENCH_SECONDS=12 BENCH_ROUNDS=4 BENCH_CLIENTS=50 BENCH_ERAS=v2,v1 BENCH_MODES=lean,sdk npm run bench:mcp
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const ERAS = (process.env.BENCH_ERAS ?? 'v2,v1').split(',');
const MODES = (process.env.BENCH_MODES ?? 'lean,sdk').split(',');
const WARMUP_SECONDS = 2;

type ToChild = { type: 'cpu' } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; bareUrl: string; oursUrl: string; key: string; engine: string }
  | { type: 'cpu'; micros: number };

// ---- the servers (child process) --------------------------------------------------------------------

async function serve(): Promise<void> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { createAdaptorServer } = await import('@hono/node-server');
  const { createMcpHandler, McpServer } = await import('@modelcontextprotocol/server');
  const { Hono } = await import('hono');
  const { z } = await import('zod');
  const { setPreference } = await import('../src/agents/preferences.js');
  const { createApiKey } = await import('../src/auth/api-keys.js');
  const { signup } = await import('../src/auth/signup.js');
  const { loadConfig } = await import('../src/config.js');
  const { Preference } = await import('../src/db/models/index.js');
  await import('../src/features.js');
  const { startServer } = await import('../src/server.js');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowspark-bench-mcp-'));
  const cfg = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RUN_WORKERS: 'false', DATA_DIR: dataDir, NODE_ENV: 'production' });
  const running = await startServer(cfg, { embeddedDir: cfg.DATABASE_URL ? undefined : 'memory://' });

  // A team, a read-only API key, a few remembered preferences to read back.
  const { tenant, user } = await signup({ tenantName: 'Bench team', email: `bench-${Date.now()}@example.test`, password: 'Correct-Horse-Battery-9' }, {});
  const auth = { tenantId: tenant.id, userId: user.id, role: user.role, email: user.email };
  const { key } = await createApiKey(auth, { name: 'bench', scopes: ['read'] });
  for (const [k, v] of [['tone', 'formal'], ['language', 'English'], ['report_format', 'bullets'], ['timezone', 'Europe/Paris'], ['units', 'metric']])
    await setPreference(auth, k!, v);

  // The SDK's minimal server: same read (the tool's query), no auth, no metering.
  const bare = createMcpHandler(() => {
    const server = new McpServer({ name: 'bare', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.registerTool(
      'list_preferences',
      {
        description: 'List everything remembered about the user.',
        inputSchema: z.object({}),
        outputSchema: z.object({ preferences: z.array(z.object({ key: z.string(), value: z.unknown() })) }),
        annotations: { readOnlyHint: true },
      },
      async () => {
        const rows = await Preference.findAll({ where: { tenantId: tenant.id, userId: user.id }, order: [['key', 'ASC']] });
        const out = { preferences: rows.map((r) => ({ key: r.key, value: r.value })) };
        return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
      },
    );
    return server;
  });
  const bareServer = createAdaptorServer({ fetch: new Hono().all('/mcp', (c) => bare.fetch(c.req.raw)).fetch });
  await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', () => r()));
  const barePort = (bareServer.address() as { port: number }).port;

  const send = (m: FromChild) => process.send!(m);
  process.on('message', async (m: ToChild) => {
    if (m.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', micros: u.user + u.system });
    } else if (m.type === 'stop') {
      await bare.close();
      bareServer.close();
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  send({
    type: 'ready',
    bareUrl: `http://127.0.0.1:${barePort}/mcp`,
    oursUrl: new URL('/mcp', running.url).href,
    key,
    engine: cfg.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite (in memory, inside the server process)',
  });
}

// ---- the clients (this process) ---------------------------------------------------------------------

type Call = () => Promise<unknown>;
type Pool = { call: Call; close(): Promise<void> }[];

interface Captured {
  headers: Record<string, string>;
  body: { id: unknown } & Record<string, unknown>;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerCall: number;
  calls: number;
  errors: number;
}

async function main(): Promise<void> {
  const { Client: ClientV2, StreamableHTTPClientTransport: HttpV2 } = await import('@modelcontextprotocol/client');
  const { Client: ClientV1 } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport: HttpV1 } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'server' } });
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve) => {
      const on = (m: FromChild) => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      child.on('message', on);
    });
  const ready = await next('ready');
  const key = ready.key;
  const bareUrl = new URL(ready.bareUrl);
  const oursUrl = new URL(ready.oursUrl);
  const serverCpu = async () => {
    const reply = next('cpu');
    child.send({ type: 'cpu' } satisfies ToChild);
    return (await reply).micros;
  };

  /** An SDK client of one generation; `capture` receives the HTTP request its tools/call sends. */
  async function clientFor(gen: 'v1' | 'v2', url: URL, withKey: boolean, capture?: (c: Captured) => void): Promise<Pool[number]> {
    const requestInit = withKey ? { headers: { authorization: `Bearer ${key}` } } : undefined;
    const fetchSpy = async (input: string | URL | Request, init?: RequestInit) => {
      if (capture && init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"tools/call"'))
        capture({ headers: Object.fromEntries(new Headers(init.headers).entries()), body: JSON.parse(init.body) });
      return fetch(input, init);
    };
    if (gen === 'v1') {
      const c = new ClientV1({ name: 'bench', version: '1' });
      await c.connect(new HttpV1(url, { requestInit, fetch: fetchSpy }));
      return { call: () => c.callTool({ name: 'list_preferences', arguments: {} }), close: () => c.close() };
    }
    const c = new ClientV2({ name: 'bench', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new HttpV2(url, { requestInit, fetch: fetchSpy }));
    return { call: () => c.callTool({ name: 'list_preferences', arguments: {} }), close: () => c.close() };
  }

  /**
   * Lean clients: the exact tools/call request an SDK client sends (captured once), replayed with plain
   * fetch and a fresh id. Fifty SDK clients cost the load generator more CPU than the servers spend,
   * which blurs the servers' difference on a small machine; replaying keeps the client cheap.
   */
  async function leanPool(gen: 'v1' | 'v2', url: URL, withKey: boolean): Promise<Pool> {
    let captured: Captured | undefined;
    const sdk = await clientFor(gen, url, withKey, (c) => (captured = c));
    await sdk.call();
    await sdk.close();
    if (!captured) throw new Error('no tools/call request captured');
    const { headers, body } = captured;
    let id = 1_000_000;
    const call: Call = async () => {
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ ...body, id: id++ }) });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('"result"') || text.includes('"isError":true')) return { isError: true };
      return {};
    };
    return Array.from({ length: CLIENTS }, () => ({ call, close: async () => undefined }));
  }

  const sdkPool = (gen: 'v1' | 'v2', url: URL, withKey: boolean) => Promise.all(Array.from({ length: CLIENTS }, () => clientFor(gen, url, withKey)));

  /** All clients call in a loop for `seconds`; latencies of the calls are collected. */
  async function drive(clients: Pool, seconds: number, latencies?: number[]): Promise<number> {
    const end = performance.now() + seconds * 1000;
    let errors = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const res = (await c.call().catch(() => ({ isError: true }))) as { isError?: boolean };
          if (res.isError) errors++;
          latencies?.push(performance.now() - t0);
        }
      }),
    );
    return errors;
  }

  /**
   * Both servers in alternating slices (bare, ours, ours, bare, …), so that load from anything else on
   * the machine weighs on both alike; each gets SECONDS of measured time in total.
   */
  async function compare(gen: 'v1' | 'v2', lean: boolean): Promise<{ bare: Result; ours: Result }> {
    const pool = lean ? leanPool : sdkPool;
    const pools = { bare: await pool(gen, bareUrl, false), ours: await pool(gen, oursUrl, true) };
    await drive(pools.bare, WARMUP_SECONDS);
    await drive(pools.ours, WARMUP_SECONDS);
    const acc = { bare: { lat: [] as number[], secs: 0, cpu: 0, errors: 0 }, ours: { lat: [] as number[], secs: 0, cpu: 0, errors: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of round % 2 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const)) {
        const cpu0 = await serverCpu();
        const t0 = performance.now();
        acc[which].errors += await drive(pools[which], SECONDS / ROUNDS, acc[which].lat);
        acc[which].secs += (performance.now() - t0) / 1000;
        acc[which].cpu += (await serverCpu()) - cpu0;
      }
    }
    await Promise.all([...pools.bare, ...pools.ours].map((c) => c.close().catch(() => undefined)));
    const result = (a: (typeof acc)['bare']): Result => {
      a.lat.sort((x, y) => x - y);
      const pct = (p: number) => a.lat[Math.min(a.lat.length - 1, Math.floor((p / 100) * a.lat.length))] ?? NaN;
      return { rps: a.lat.length / a.secs, p50: pct(50), p99: pct(99), cpuMsPerCall: a.cpu / 1000 / a.lat.length, calls: a.lat.length, errors: a.errors };
    };
    return { bare: result(acc.bare), ours: result(acc.ours) };
  }

  const fmt = (r: Result) =>
    `${r.rps.toFixed(0).padStart(6)} calls/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   ` +
    `server CPU ${r.cpuMsPerCall.toFixed(2)} ms/call   (${r.calls} calls, ${r.errors} errors)`;

  console.log(`MCP tools/call benchmark: list_preferences, ${CLIENTS} concurrent clients, ${SECONDS}s measured per server in ${ROUNDS} alternating slices, after ${WARMUP_SECONDS}s warm-up`);
  console.log(`database: ${ready.engine}; node ${process.version}`);
  const summary: string[] = [];
  for (const [gen, era] of [
    ['v2', '2026-07-28 (v2 client)'],
    ['v1', '2025-11-25 (v1 client, stateless fallback)'],
  ] as const) {
    if (!ERAS.includes(gen)) continue;
    for (const lean of [true, false]) {
      if (!MODES.includes(lean ? 'lean' : 'sdk')) continue;
      const { bare, ours } = await compare(gen, lean);
      const ratio = bare.rps / ours.rps;
      const cpuRatio = ours.cpuMsPerCall / bare.cpuMsPerCall;
      console.log(`\n${era}, ${lean ? 'lean clients (replayed SDK requests)' : 'SDK clients'}`);
      console.log(`  bare SDK server   ${fmt(bare)}`);
      console.log(`  FlowSpark /mcp    ${fmt(ours)}`);
      console.log(
        `  ratio: throughput ${ratio.toFixed(2)}× (${ratio <= 1.5 ? 'within' : 'MISSES'} the 1.5× target)   ` +
          `p50 ${(ours.p50 / bare.p50).toFixed(2)}×   server CPU per call ${cpuRatio.toFixed(2)}×`,
      );
      summary.push(`${gen}/${lean ? 'lean' : 'sdk'} ${ratio.toFixed(2)}× (CPU ${cpuRatio.toFixed(2)}×)`);
    }
  }
  console.log(`\nsummary (bare/ours throughput, ours/bare CPU per call): ${summary.join(', ')}`);
  child.send({ type: 'stop' } satisfies ToChild);
  await new Promise((r) => child.once('exit', r));
}

if (process.env.BENCH_ROLE === 'server') await serve();
else await main();
