// Boot: config → db → cache → http (+ realtime, mcp, workers as they register). Returns a handle
// that closes everything, used by main.ts, the tests and the benchmarks.
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openCache, type Cache } from './cache/index.js';
import type { Config } from './config.js';
import { setConfig } from './config.js';
import { openDatabase, type Database } from './db/index.js';
import { createApp } from './http/app.js';
import { log } from './log.js';

export interface Running {
  url: string;
  port: number;
  server: Server;
  database: Database;
  cache: Cache;
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

/** Extra parts (Socket.IO, workers) hook in here: started after the HTTP server listens. */
export type Attachment = (ctx: { server: Server; config: Config; cache: Cache }) => Promise<() => Promise<void>>;
const attachments: Attachment[] = [];
export const attach = (a: Attachment) => attachments.push(a);

export async function startServer(cfg: Config, opts: { embeddedDir?: string } = {}): Promise<Running> {
  setConfig(cfg);
  log.level = cfg.LOG_LEVEL;
  const database = await openDatabase(cfg, { embeddedDir: opts.embeddedDir });
  const cache = openCache(cfg.REDIS_URL);
  const app = createApp();
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.PORT, cfg.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const stops: (() => Promise<void>)[] = [];
  for (const a of attachments) stops.push(await a({ server, config: cfg, cache }));
  const url = `http://${cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST}:${port}`;
  return {
    url,
    port,
    server,
    database,
    cache,
    app,
    async close() {
      for (const s of stops.reverse()) await s().catch((err) => log.warn({ err }, 'stop failed'));
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await cache.close();
      await database.close();
    },
  };
}
