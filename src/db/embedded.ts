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
  pinExtendedQueryBatches(server);
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

// pglite-socket (0.2.17) queues protocol messages from all connections and, outside a transaction,
// takes them in arrival order. An extended-protocol query (Parse, Bind, Describe, Execute … Sync) from
// one connection can then be interleaved with another's, and the unnamed prepared statement of one is
// replaced by the other's ("unnamed prepared statement does not exist"). It also stops processing for
// good after a failed message. This keeps a connection's batch together until its Sync, and keeps the
// queue running after a failure.
const BATCH_TYPES = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]); // P B D E C H

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve(n: number): void;
  reject(e: unknown): void;
  onData(d: Uint8Array): void;
}
interface QueryQueue {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  midBatch?: boolean;
  processQueue(): Promise<void>;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

function pinExtendedQueryBatches(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  if (!q || typeof q.processQueue !== 'function') return;
  q.processQueue = async function (this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        let item: QueueItem | undefined;
        if (this.lastHandlerId !== null && (this.midBatch || this.db.isInTransaction())) {
          const i = this.queue.findIndex((r) => r.handlerId === this.lastHandlerId);
          if (i === -1) break; // wait for that connection's next message
          item = this.queue.splice(i, 1)[0];
        } else item = this.queue.shift();
        if (!item) break;
        let bytes = 0;
        const current = item;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(current.message, {
              onRawData: (d: Uint8Array) => {
                bytes += d.length;
                current.onData(d);
              },
            }),
          );
          this.lastHandlerId = current.handlerId;
          this.midBatch = BATCH_TYPES.has(current.message[0]!);
          current.resolve(bytes);
        } catch (e) {
          this.midBatch = false;
          current.reject(e);
        }
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = q.clearTransactionIfNeeded.bind(q);
  q.clearTransactionIfNeeded = async function (this: QueryQueue, handlerId: number) {
    if (this.midBatch && this.lastHandlerId === handlerId && !this.db.isInTransaction()) {
      this.midBatch = false;
      this.lastHandlerId = null;
      await this.processQueue();
      return;
    }
    await clear(handlerId);
  };
}
