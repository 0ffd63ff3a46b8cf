// Embedded PostgreSQL: PGlite (PostgreSQL compiled to WASM) with pgvector, persisted under the data
// directory and served to `pg`/Sequelize over pglite-socket on loopback.
//
// Limits worth knowing (README "Embedded engine"): every connection shares ONE backend session, so
// while a transaction is open every other query waits for it. Code must pass its transaction to every
// query inside a unit of work (a query issued outside it would wait forever) and keep transactions short.
import fs from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory for the data files; `memory://` keeps everything in memory (tests). */
  dataDir: string;
  port?: number;
  maxConnections: number;
}

export async function startEmbeddedDatabase(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const inMemory = opts.dataDir.startsWith('memory://');
  if (!inMemory) await fs.mkdir(opts.dataDir, { recursive: true });
  // extensions must be passed on every open, or queries fail with `could not access file "vector"`.
  const db = await PGlite.create(inMemory ? undefined : opts.dataDir, { extensions: { vector } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: opts.port ?? 0,
    maxConnections: opts.maxConnections,
  });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
