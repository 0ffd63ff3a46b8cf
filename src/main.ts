// Process entry point for `npm start`.
import { loadConfigOrExit } from './config.js';
import { log } from './log.js';
import { startServer } from './server.js';
import './features.js';

const t0 = performance.now();
const cfg = loadConfigOrExit();

const running = await startServer(cfg);
log.info(
  {
    url: running.url,
    database: cfg.DATABASE_URL ? 'postgresql' : 'embedded',
    cache: running.cache.kind,
    model: cfg.OPENAI_API_KEY || cfg.OPENAI_BASE_URL ? (cfg.CHAT_MODEL ?? 'gpt-4o-mini') : 'offline',
    startupMs: Math.round(performance.now() - t0),
  },
  `FlowSpark listening on ${running.url}`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  });
