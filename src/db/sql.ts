// Plain SQL straight through `pg` on Sequelize's own pool, for the few hot paths (a chat turn, session
// checks, the ledger) where Sequelize's query layer and model instances cost more CPU than the query.
// Positional parameters ($1, $2, …) are sent separately from the text (extended protocol), so values
// are never interpolated. Inside a Sequelize transaction the statement runs on that transaction's
// connection; otherwise a connection is borrowed from the primary's pool for the one statement.
import type { Transaction } from 'sequelize';
import { currentDatabase, db } from './index.js';

export interface PgClient {
  query<R = Record<string, unknown>>(q: { text: string; values?: unknown[] } | string): Promise<{ rows: R[]; rowCount: number | null }>;
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
 * A short transaction on one pooled connection, without Sequelize's Transaction object. `asyncCommit`
 * lets the commit return before its WAL record reaches the disk (synchronous_commit = off: the write is
 * flushed within the WAL writer's delay; a server crash in that window loses it, nothing is corrupted).
 * Never use it for money: the ledger commits synchronously.
 */
export async function sqlTransaction<T>(fn: (q: <R = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>) => Promise<T>, opts: { asyncCommit?: boolean } = {}): Promise<T> {
  const client = await manager().getConnection({ type: 'write', useMaster: true });
  // The embedded engine has one backend and no WAL writer worth relaxing.
  const relaxed = opts.asyncCommit && !currentDatabase()?.embedded;
  let open = false;
  try {
    await client.query(relaxed ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN');
    open = true;
    const result = await fn(async (text, values = []) => (await client.query({ text, values })).rows as never);
    await client.query('COMMIT');
    open = false;
    return result;
  } catch (err) {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await manager().releaseConnection(client);
  }
}
