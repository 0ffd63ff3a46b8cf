// Feature registration for the knowledge base: its routes, its two agent/MCP tools, and (RUN_WORKERS=true,
// the default) the in-process ingestion worker, started with the server and stopped when it closes.
// With RUN_WORKERS=false the server only queues uploads; `npm run worker` processes (needs DATABASE_URL).
import { registerRoutes } from '../http/app.js';
import { attach } from '../server.js';
import { registerTools } from '../tools/index.js';
import { knowledgeBaseTools } from '../tools/knowledge-base.js';
import { kbRoutes } from './routes.js';
import { startKbWorker } from './worker.js';

registerRoutes(kbRoutes);
registerTools(...knowledgeBaseTools);

attach(async ({ config }) => {
  if (!config.RUN_WORKERS) return async () => {};
  const worker = startKbWorker();
  return () => worker.stop();
});
