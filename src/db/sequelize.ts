// The Sequelize instance. One per process; `pg` underneath, with pool size, statement timeout and
// connection timeout from config, and optional read replicas (Sequelize replication).
import 'pgvector/sequelize';
import pg from 'pg';
import { Sequelize, type Options } from 'sequelize';
import { log } from '../log.js';

// TIMESTAMP (without time zone) columns hold UTC; parse them as UTC rather than local time.
pg.types.setTypeParser(1114, (v: string) => new Date(v.replace(' ', 'T') + 'Z'));
// BIGINT counts (file sizes, counts) fit well within 2^53 here.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface DbOptions {
  url: string;
  replicaUrls?: string[];
  poolMax: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  embedded: boolean;
}

function parse(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    username: decodeURIComponent(u.username || 'postgres'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1) || 'postgres'),
  };
}

export function createSequelize(opts: DbOptions): Sequelize {
  const options: Options = {
    dialect: 'postgres',
    dialectModule: pg,
    logging: (sql) => log.trace({ sql }, 'sql'),
    timezone: '+00:00',
    pool: { max: opts.poolMax, min: 0, acquire: opts.connectTimeoutMs + 5000, idle: 10_000, evict: 1000 },
    dialectOptions: {
      options: opts.embedded ? undefined : '-c TimeZone=UTC',
      statement_timeout: opts.statementTimeoutMs || undefined,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      application_name: 'flowspark',
    },
    define: { underscored: true, freezeTableName: true },
  };
  if (opts.replicaUrls?.length) {
    options.replication = { write: parse(opts.url), read: opts.replicaUrls.map(parse) };
    const w = parse(opts.url);
    return new Sequelize(w.database, w.username, w.password, { ...options, host: w.host, port: w.port });
  }
  return new Sequelize(opts.url, options);
}
