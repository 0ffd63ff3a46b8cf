// The ingestion worker as it runs: in-process with the server (woken by the upload, stopped with the
// server), absent with RUN_WORKERS=false, and as its own process (`npm run worker`, PostgreSQL only —
// without DATABASE_URL it refuses to start, since the embedded engine belongs to the server process).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupTeam, testConfig, type Team } from '../support/harness.js';
import '../../src/features.js';
import { startServer, type Running } from '../../src/server.js';
import * as fx from '../fixtures/kb/make-fixtures.js';
import { rows } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const embedded = process.env.TEST_EMBEDDED === '1';

async function uploadTo(url: string, token: string, buffer: Buffer, fileName: string) {
  const form = new FormData();
  form.append('file', new File([new Uint8Array(buffer)], fileName));
  const res = await fetch(`${url}/api/kb/documents`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function waitForStatus(id: string, statuses: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [doc] = await rows(`SELECT status, total_chunks FROM kb_document WHERE id = :id`, { id });
    if (statuses.includes(doc!.status) || Date.now() > deadline) return doc!;
    await sleep(50);
  }
}

describe('in-process worker (RUN_WORKERS=true)', () => {
  let running: Running;
  let team: Team;
  beforeAll(async () => {
    running = await startServer(testConfig({ PORT: '0', RUN_WORKERS: 'true' }));
    team = await signupTeam();
  });
  afterAll(() => running?.close());

  it('several uploads in a row are all indexed (this also warms up the extractors)', async () => {
    const ids = [await uploadTo(running.url, team.token, await fx.multiPagePdf(), 'almanac.pdf')];
    for (let i = 0; i < 3; i++) ids.push(await uploadTo(running.url, team.token, Buffer.from(`# Note ${i}\n\nThe kiln fires at ${900 + i} degrees.`), `note-${i}.md`));
    for (const id of ids) expect((await waitForStatus(id, ['indexed', 'failed'], 15_000)).status).toBe('indexed');
  });
  it('indexes an upload right away: the upload wakes the worker (it polls only every 5 s)', async () => {
    const started = Date.now();
    const id = await uploadTo(running.url, team.token, Buffer.from('# Kiln\n\nThe kiln is cleaned on Fridays.'), 'kiln.md');
    const doc = await waitForStatus(id, ['indexed', 'failed'], 15_000);
    expect(doc).toMatchObject({ status: 'indexed', total_chunks: 1 });
    expect(Date.now() - started).toBeLessThan(2500);
  });

});

describe('RUN_WORKERS=false', () => {
  let running: Running;
  beforeAll(async () => {
    running = await startServer(testConfig({ PORT: '0', RUN_WORKERS: 'false' }));
  });
  afterAll(() => running?.close());

  it('the server only queues uploads', async () => {
    const team = await signupTeam();
    const id = await uploadTo(running.url, team.token, Buffer.from('Queued only.'), 'q.txt');
    await sleep(700);
    expect((await rows(`SELECT status FROM kb_document WHERE id = :id`, { id }))[0]!.status).toBe('uploading');
  });
});

function runWorker(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    env: { ...process.env, LOG_LEVEL: 'silent', DB_POOL_MAX: '3', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

describe('npm run worker', () => {
  it('refuses to start without DATABASE_URL, saying why', async () => {
    const w = runWorker({ DATABASE_URL: '' });
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/needs DATABASE_URL/);
  }, 60_000);

  it.skipIf(embedded)('a separate worker process ingests queued documents and stops cleanly on SIGTERM', async () => {
    const running = await startServer(testConfig({ PORT: '0', RUN_WORKERS: 'false' }));
    const w = runWorker({});
    try {
      const team = await signupTeam();
      const id = await uploadTo(running.url, team.token, await fx.multiPagePdf(), 'almanac.pdf');
      const doc = await waitForStatus(id, ['indexed', 'failed'], 45_000);
      expect(doc).toMatchObject({ status: 'indexed', total_chunks: 3 });
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      w.child.kill('SIGKILL');
      await running.close();
    }
  }, 90_000);
});
