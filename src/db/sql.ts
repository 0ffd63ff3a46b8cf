// Plain SQL straight through `pg` on Sequelize's own pool, for the few hot paths (a chat turn, session
// checks, the ledger) where Sequelize's query layer and model instances cost more CPU than the query.
// Positional parameters ($1, $2, …) are sent separately from the text (extended protocol), so values
// are never interpolated. Inside a Sequelize transaction the statement runs on that transaction's
// connection; otherwise a connection is borrowed from the primary's pool for the one statement.
import type { Transaction } from 'sequelize';
import { currentDatabase, db } from './index.js';

export interface PgClient {
  query<R = Record<string, unknown>>(q: { text: string; values?: unknown[] } | string): Promise<{ rows: R[]; rowCount: number | null }>;
  escapeLiteral(value: string): string;
}

interface ConnectionManager {
  getConnection(opts: { type: 'read' | 'write'; useMaster?: boolean }): Promise<PgClient>;
  releaseConnection(c: PgClient): Promise<void> | void;
}

const manager = () => db().connectionManager as unknown as ConnectionManager;

/** Rows of one statement. */
export async function sql<R = Record<string, unknown>>(text: string, values: unknown[] = [], transaction?: Transaction | null): Promise<R[]> {
  const bound = (transaction as unknown as { connection?: PgClient } | undefined)?.connection;
  if (bound) return (await bound.query<R>({ text, values })).rows;
  const client = await manager().getConnection({ type: 'write', useMaster: true });
  try {
    return (await client.query<R>({ text, values })).rows;
  } finally {
    await manager().releaseConnection(client);
  }
}

/**
 * One statement committed without waiting for its WAL flush (synchronous_commit = off: the write reaches
 * the disk within the WAL writer's delay; a server crash in that window loses it, nothing is corrupted;
 * never for money: the ledger commits synchronously), in ONE round trip: `BEGIN; SET LOCAL …;
 * <statement>; COMMIT` sent as a single simple query. The simple protocol
 * carries no parameters, so the values are written into the text as literals escaped by pg's own
 * escapeLiteral (as Sequelize's replacements are). The embedded engine runs the statement as it is.
 */
export async function sqlAsyncCommit<R = Record<string, unknown>>(text: string, values: unknown[]): Promise<R[]> {
  if (currentDatabase()?.embedded) return sql<R>(text, values);
  const client = await manager().getConnection({ type: 'write', useMaster: true });
  const literal = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError('a SQL number must be finite');
      return String(v);
    }
    if (v instanceof Date) return client.escapeLiteral(v.toISOString());
    return client.escapeLiteral(typeof v === 'string' ? v : JSON.stringify(v));
  };
  const inlined = text.replace(/\$(\d+)/g, (_, n: string) => literal(values[Number(n) - 1]));
  try {
    const results = (await client.query(`BEGIN; SET LOCAL synchronous_commit TO OFF; ${inlined}; COMMIT`)) as unknown as { rows: R[] }[];
    return results[2]!.rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await manager().releaseConnection(client);
  }
}
