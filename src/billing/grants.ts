// Credits that must happen exactly once — a period's included tokens, a paid token-package checkout —
// are keyed (billing_credit_grant.grant_key) by what makes them unique. The key is inserted in the same
// transaction as the ledger credit, so a second attempt (a replayed or reordered webhook, a concurrent
// roll-over) finds the key and credits nothing.
import { QueryTypes, type Transaction } from 'sequelize';
import { db } from '../db/index.js';
import { creditTokens, type LedgerResult } from './ledger.js';

export interface Grant {
  key: string;
  tenantId: string;
  tokens: number;
  operation: 'included_tokens' | 'token_purchase';
  purchased?: boolean;
  metadata?: Record<string, unknown>;
}

/** Credit once per key; null when the key was already granted. */
export async function grantTokensOnce(g: Grant, transaction: Transaction): Promise<LedgerResult | null> {
  const inserted = await db().query<{ grant_key: string }>(
    `INSERT INTO billing_credit_grant (grant_key, tenant_id, tokens) VALUES (:key, :tenantId, :tokens)
     ON CONFLICT (grant_key) DO NOTHING RETURNING grant_key`,
    { replacements: { key: g.key, tenantId: g.tenantId, tokens: g.tokens }, transaction, type: QueryTypes.SELECT },
  );
  if (!inserted.length || g.tokens <= 0) return null;
  const result = await creditTokens(
    { tenantId: g.tenantId, tokens: g.tokens, operation: g.operation, purchased: g.purchased, metadata: { ...(g.metadata ?? {}), grant: g.key } },
    transaction,
  );
  await db().query(`UPDATE billing_credit_grant SET transaction_id = :tx WHERE grant_key = :key`, {
    replacements: { tx: result.transactionId, key: g.key },
    transaction,
  });
  return result;
}

/** The grant key of a period's included tokens: Stripe periods by subscription, others by tenant. */
export const periodGrantKey = (owner: string, periodStart: Date) => `period:${owner}:${periodStart.toISOString()}`;
