// The embedded engine (PGlite + pgvector over pglite-socket): data survives a restart of the process's
// database, migrations are applied once, and a running service rides out its database going away and
// coming back — /readyz says so, requests fail with 503 rather than a misleading 401, and it recovers
// by itself.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterAll, describe, expect, it } from 'vitest';
import { signup } from '../../src/auth/signup.js';
import { validateSessionToken } from '../../src/auth/sessions.js';
import { loadConfig, setConfig } from '../../src/config.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { createMigrator } from '../../src/db/migrate.js';
import { startServer, type Running } from '../../src/server.js';
import { STRONG_PASSWORD, uniqueEmail } from './helpers.js';

const BASE_ENV = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DB_POOL_MAX: '4' } as const;
// initdb of a new data directory is CPU-bound WebAssembly: a few seconds alone, far more on a busy machine.
const SLOW = 120_000;
const cleanups: (() => Promise<unknown>)[] = [];
/** A data directory the first test initialised and closed cleanly; the second reuses it (initdb is slow). */
let initialisedDir: string | undefined;

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowspark-embedded-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('embedded engine', () => {
  it('keeps the data across a restart and does not re-apply migrations', async () => {
    const dataDir = await tempDir();
    const cfg = loadConfig({ ...BASE_ENV, DATA_DIR: dataDir });
    setConfig(cfg);
    let database: Database | undefined = await openDatabase(cfg);
    cleanups.push(() => database?.close() ?? Promise.resolve());
    expect(database.embedded).toBeDefined();
    await expect(fs.stat(path.join(dataDir, 'pg', 'PG_VERSION'))).resolves.toBeTruthy();

    const email = uniqueEmail('persist');
    const { tenant, session } = await signup({ tenantName: 'Persistent Co', email, password: STRONG_PASSWORD }, {});
    const migrationsBefore = await database.sequelize.query(`SELECT name FROM schema_migrations ORDER BY name`, { type: QueryTypes.SELECT });
    expect(migrationsBefore.length).toBeGreaterThanOrEqual(3);
    await database.close();
    database = undefined;

    database = await openDatabase(cfg);
    const found = await database.sequelize.query(
      `SELECT t.slug, u.email FROM core_tenant t JOIN core_user u ON u.tenant_id = t.id WHERE t.id = :id`,
      { replacements: { id: tenant.id }, type: QueryTypes.SELECT },
    );
    expect(found).toEqual([{ slug: 'persistent-co', email }]);
    // Still signed in after the restart.
    expect((await validateSessionToken(session.token))?.user.email).toBe(email);
    // Migrations ran once: same rows in schema_migrations, nothing pending.
    expect(await database.sequelize.query(`SELECT name FROM schema_migrations ORDER BY name`, { type: QueryTypes.SELECT })).toEqual(migrationsBefore);
    expect(await createMigrator(database.sequelize, { embeddingDimensions: cfg.EMBEDDING_DIMENSIONS }).pending()).toEqual([]);
    await database.close();
    database = undefined;
    initialisedDir = path.join(dataDir, 'pg');
  }, SLOW);

  it('survives its database restarting while the service runs: 503 while down, recovers without a restart', async () => {
    const dataDir = initialisedDir ?? (await tempDir());
    const port = await freePort();
    let engine: EmbeddedDatabase | undefined = await startEmbeddedDatabase({ dataDir, port, maxConnections: 10 });
    cleanups.push(() => engine?.stop() ?? Promise.resolve());
    const cfg = loadConfig({ ...BASE_ENV, DATABASE_URL: engine.url, HOST: '127.0.0.1', PORT: '0', DB_CONNECT_TIMEOUT_MS: '2000' });
    const running: Running = await startServer(cfg);
    cleanups.push(() => running.close());

    const get = async (p: string, token?: string) => {
      const res = await fetch(running.url + p, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: res.status, body: (await res.json()) as any };
    };
    const post = async (p: string, json: unknown, token?: string) => {
      const res = await fetch(running.url + p, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(json),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    const email = uniqueEmail('restart');
    const signed = await post('/api/auth/signup', { tenantName: 'Restart Co', email, password: STRONG_PASSWORD });
    expect(signed.status).toBe(201);
    const token = signed.body.token as string;
    const key = (await post('/api/api-keys', { name: 'bot', scopes: ['read'] }, token)).body.key as string;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/api/me', token)).status).toBe(200);

    await engine.stop();
    engine = undefined;

    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('unavailable');
    expect(ready.body.checks.database).toBe('down');
    expect((await get('/healthz')).status).toBe(200);
    for (const credential of [token, key]) {
      const me = await get('/api/me', credential);
      expect(me.status).toBe(503);
      expect(me.body.error.code).toBe('database_unavailable');
    }
    const login = await post('/api/auth/login', { email, password: STRONG_PASSWORD });
    expect(login.status).toBe(503);
    expect(login.body.error.code).toBe('database_unavailable');

    engine = await startEmbeddedDatabase({ dataDir, port, maxConnections: 10 });
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
      status = (await get('/readyz')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    const me = await get('/api/me', token);
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect((await get('/api/me', key)).status).toBe(200);
    expect((await post('/api/auth/login', { email, password: STRONG_PASSWORD })).status).toBe(200);
  }, SLOW);
});
