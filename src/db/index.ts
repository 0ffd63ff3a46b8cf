// Database lifecycle: DATABASE_URL → that server; unset → the embedded engine under DATA_DIR/pg.
import path from 'node:path';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded.js';
import { migrateUp } from './migrate.js';
import { initModels } from './models/index.js';
import { ensureAnalyticsPartitions } from './partitions.js';
import { createSequelize } from './sequelize.js';

export interface Database {
  sequelize: Sequelize;
  url: string;
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

let current: Database | undefined;

export function db(): Sequelize {
  if (!current) throw new Error('database not initialised: call openDatabase() first');
  return current.sequelize;
}

export function currentDatabase(): Database | undefined {
  return current;
}

export async function openDatabase(
  cfg: Config,
  opts: { migrate?: boolean; embeddedDir?: string } = {},
): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = cfg.DATABASE_URL;
  if (!url) {
    const dir = opts.embeddedDir ?? path.join(cfg.dataDir, 'pg');
    embedded = await startEmbeddedDatabase({
      dataDir: dir,
      port: cfg.EMBEDDED_DB_PORT,
      maxConnections: cfg.DB_POOL_MAX + 4,
    });
    url = embedded.url;
    log.info({ dir }, 'embedded PostgreSQL (PGlite + pgvector) started');
  }
  const sequelize = createSequelize({
    url,
    replicaUrls: cfg.DATABASE_REPLICA_URLS,
    poolMax: cfg.DB_POOL_MAX,
    statementTimeoutMs: cfg.DB_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: cfg.DB_CONNECT_TIMEOUT_MS,
    embedded: !!embedded,
  });
  initModels(sequelize);
  if (opts.migrate !== false) {
    await migrateUp(sequelize, { embeddingDimensions: cfg.EMBEDDING_DIMENSIONS });
    await ensureAnalyticsPartitions(sequelize);
  }
  const database: Database = {
    sequelize,
    url,
    embedded,
    async close() {
      await sequelize.close();
      await embedded?.stop();
      if (current === database) current = undefined;
    },
  };
  current = database;
  return database;
}
