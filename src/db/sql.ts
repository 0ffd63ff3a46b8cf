// Plain SQL straight through `pg` on Sequelize's own pool, for the few hot paths (a chat turn, session
// checks, the ledger) where Sequelize's query layer and model instances cost more CPU than the query.
// Positional parameters ($1, $2, …) are sent separately from the text (extended protocol), so values
// are never interpolated. Inside a Sequelize transaction the statement runs on that transaction's
// connection; otherwise a connection is borrowed from the primary's pool for the one statement.
import type { Transaction } from 'sequelize';
import { db } from './index.js';

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
 * Select this in a single-statement write to let its own commit return before its WAL record reaches the
 * disk: `set_config(…, true)` lasts for the statement's implicit transaction, so nothing else on the
 * pooled connection is affected. The write reaches the disk within the WAL writer's delay; a server
 * crash in that window loses it and corrupts nothing. Never for money: the ledger commits synchronously.
 */
export const ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)";

/**
 * `sql` with named parameters (`:name`, as in Sequelize replacements), for long statements whose values
 * would be hard to follow as $1…$n: the text is compiled to positional parameters once and cached, and
 * the values still travel apart from it. `::type` casts are left alone (and so is nothing else: no quoted text
 * in the statement may contain `:word`). A name missing from `params` is sent as NULL.
 */
export function sqlNamed<R = Record<string, unknown>>(text: string, params: Record<string, unknown>, transaction?: Transaction | null): Promise<R[]> {
  const compiled = compileNamed(text);
  return sql<R>(compiled.text, compiled.names.map((name) => params[name] ?? null), transaction);
}

const compiledNamed = new Map<string, { text: string; names: string[] }>();

function compileNamed(text: string): { text: string; names: string[] } {
  let compiled = compiledNamed.get(text);
  if (!compiled) {
    const names: string[] = [];
    const positional = text.replace(/(?<![:\w]):([A-Za-z_]\w*)/g, (_, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    compiled = { text: positional, names };
    if (compiledNamed.size >= 200) compiledNamed.clear(); // statements are a handful of fixed texts
    compiledNamed.set(text, compiled);
  }
  return compiled;
}
