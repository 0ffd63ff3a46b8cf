// The MCP server over stdio, for assistants that start a local process (Claude Desktop, IDEs):
//   FLOWSPARK_API_KEY=fsk_… DATABASE_URL=postgres://… npm run mcp:stdio     (or the `flowspark-mcp` bin)
// The API key in the environment is the credential; it is checked again on every request, so revoking
// it stops the process from doing anything more. The database is opened like the server opens it:
// DATABASE_URL, else the embedded engine under DATA_DIR/pg. The embedded engine's data directory can be
// opened by ONE process only: stop the FlowSpark server before using stdio on the embedded default, or
// point both at the same PostgreSQL with DATABASE_URL.
// stdout carries the protocol and nothing else: the logger writes to stderr here.
import fs from 'node:fs';
import path from 'node:path';
import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import { pino } from 'pino';
import { authenticateToken } from '../auth/authenticate.js';
import { openCache } from '../cache/index.js';
import { ConfigError, loadConfig, setConfig, type Config } from '../config.js';
import { openDatabase } from '../db/index.js';
import { unauthorized } from '../errors.js';
import '../features.js';
import { log } from '../log.js';
import { flushMetering } from './metering.js';
import { createMcpServer } from './server.js';

(log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = pino.destination({ fd: 2, sync: true });

const CLIENT_META = { userAgent: 'flowspark-mcp (stdio)' };

function fail(message: string): never {
  process.stderr.write(`flowspark-mcp: ${message}\n`);
  process.exit(1);
}

/** PGlite keeps postmaster.pid in its data directory while it is open (and removes it on close). */
function assertEmbeddedDirFree(cfg: Config): void {
  const pid = path.join(cfg.dataDir, 'pg', 'postmaster.pid');
  if (fs.existsSync(pid))
    fail(
      `the embedded database in ${path.dirname(pid)} is in use (is the FlowSpark server running?). ` +
        'Stop the server first, or set DATABASE_URL so that both use the same PostgreSQL. ' +
        `If nothing is running, a crash left ${pid} behind: delete it.`,
    );
}

async function main(): Promise<void> {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const key = cfg.FLOWSPARK_API_KEY;
  if (!key) fail('set FLOWSPARK_API_KEY to a FlowSpark API key (create one in Settings → API keys, or POST /api/api-keys).');
  setConfig(cfg);
  log.level = cfg.LOG_LEVEL;
  if (!cfg.DATABASE_URL) assertEmbeddedDirFree(cfg);

  const database = await openDatabase(cfg);
  const cache = openCache(cfg.REDIS_URL);
  let handle: StdioServerHandle | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number) =>
    (stopping ??= (async () => {
      await handle?.close().catch(() => undefined);
      await flushMetering();
      await cache.close().catch(() => undefined);
      await database.close().catch((err) => log.warn({ err }, 'closing the database failed'));
      process.exit(code);
    })());

  const auth = await authenticateToken(key, CLIENT_META);
  if (!auth) {
    process.stderr.write('flowspark-mcp: the API key in FLOWSPARK_API_KEY is invalid, expired or revoked.\n');
    await stop(1);
    return;
  }
  const caller = async () => {
    const now = await authenticateToken(key, CLIENT_META);
    if (!now) throw unauthorized('invalid_token', 'The API key in FLOWSPARK_API_KEY is invalid, expired or revoked.');
    return now;
  };

  handle = serveStdio(({ era }) => createMcpServer(auth, { caller, transport: 'stdio', era }), {
    onerror: (err) => log.warn({ err }, 'MCP stdio error'),
  });
  log.info({ tenantId: auth.tenantId, userId: auth.userId, database: cfg.DATABASE_URL ? 'postgresql' : 'embedded' }, 'FlowSpark MCP server on stdio');

  // The client closing our stdin ends the session.
  process.stdin.once('end', () => void stop(0));
  process.stdin.once('close', () => void stop(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(0));
}

await main().catch((err) => {
  log.error({ err }, 'MCP stdio server failed');
  fail(err instanceof Error ? err.message : String(err));
});
