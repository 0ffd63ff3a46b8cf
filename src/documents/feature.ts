// Feature registration for documents: the REST routes (templates, generation, versions, sharing,
// downloads), the agent/MCP tools (list_templates, generate_document, get_document, list_documents),
// with RUN_WORKERS a periodic settling of generations a crash interrupted, and the render threads ended
// when the server closes.
import { registerRoutes } from '../http/app.js';
import { log } from '../log.js';
import { attach } from '../server.js';
import { documentTools } from '../tools/documents.js';
import { registerTools } from '../tools/index.js';
import { settleInterruptedGenerations } from './interrupted-generations.js';
import { closeRenderPool } from './render-pool.js';
import { documentRoutes } from './routes.js';

registerRoutes(documentRoutes);
registerTools(...documentTools);

const EVERY_MS = 5 * 60_000;

// Render threads start on the first generation (./render-pool.ts); the server's close ends them.
attach(async () => closeRenderPool);

attach(async ({ config }) => {
  if (!config.RUN_WORKERS) return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = settleInterruptedGenerations()
      .then((n) => (n.failed || n.restored) && log.info(n, 'interrupted document generations settled'))
      .catch((err) => log.warn({ err }, 'settling interrupted document generations failed'));
  };
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  run(); // what the previous process left behind
  return async () => {
    clearInterval(timer);
    await running;
  };
});
