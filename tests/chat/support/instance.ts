// One service instance in its own process, for the multi-instance tests and the benchmark's socket
// clients' counterpart: configuration from the environment (PORT 0 → any free port), prints
// `READY <url>` once listening, closes cleanly on SIGTERM.
import { loadConfig } from '../../../src/config.js';
import '../../../src/features.js';
import { startServer } from '../../../src/server.js';

const running = await startServer(loadConfig({ ...process.env, PORT: process.env.PORT ?? '0' }));
process.stdout.write(`READY ${running.url}\n`);
const stop = async () => {
  await running.close().catch(() => undefined);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
