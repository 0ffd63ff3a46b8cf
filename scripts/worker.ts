// npm run worker: a knowledge-base ingestion worker in its own process, for scaling ingestion out (run as
// many as needed; they share the queue through FOR UPDATE SKIP LOCKED). Start the web servers with
// RUN_WORKERS=false when dedicated workers do the ingestion. Needs DATABASE_URL: the embedded engine lives
// inside the server process and cannot be opened by a second one. Stops cleanly on SIGINT/SIGTERM: the
// document in hand is released to the queue.
import os from 'node:os';
import { loadConfigOrExit, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { startKbWorker } from '../src/kb/worker.js';
import { log } from '../src/log.js';

const cfg = loadConfigOrExit();
if (!cfg.DATABASE_URL) {
  console.error(
    'npm run worker needs DATABASE_URL (PostgreSQL with pgvector). Without it FlowSpark uses its embedded engine, ' +
      'which only the server process can open: the server then runs the ingestion worker itself (RUN_WORKERS=true).',
  );
  process.exit(1);
}
setConfig(cfg);
log.level = cfg.LOG_LEVEL;
const database = await openDatabase(cfg);
const concurrency = Math.max(1, Number(process.argv.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? 1));
const worker = startKbWorker({ concurrency, pollIntervalMs: 2000 });
log.info({ pid: process.pid, host: os.hostname(), concurrency }, 'kb worker process ready');
process.stdout.write('WORKER READY\n');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'kb worker stopping');
    await worker.stop();
    await database.close();
    process.exit(0);
  });
