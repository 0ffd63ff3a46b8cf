// The token ledger. Every change to a tenant's balance is one billing_token_transaction row whose
// balance_after is exact: the balance row is locked (SELECT ... FOR UPDATE) for the few statements of
// the change, so concurrent debits and credits serialise per tenant and never lose, double or go
// below zero. Callers pass their transaction when the change belongs to a larger unit of work.
import type { Transaction } from 'sequelize';
import { recordAudit } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { sql } from '../db/sql.js';
import { paymentRequired } from '../errors.js';
import { emit } from '../events.js';

export interface LedgerChange {
  tenantId: string;
  /** Positive: credit; negative: debit. */
  amount: number;
  operation: string;
  metadata?: Record<string, unknown>;
  /** Debits only: charge what is left instead of failing when the balance is short (usage already spent). */
  clampToBalance?: boolean;
  /** Credits only: count toward lifetime_purchased. */
  purchased?: boolean;
}

export interface LedgerResult {
  transactionId: string;
  amount: number;
  balanceAfter: number;
}

interface BalanceRow {
  balance: number;
  low_balance_threshold: number;
  low_balance_alert_sent: boolean;
}

export const insufficientTokens = () =>
  paymentRequired('insufficient_tokens', 'Your team has no tokens left. Ask an admin to buy a token package or upgrade the plan.');

async function lockBalance(tenantId: string, transaction: Transaction): Promise<BalanceRow> {
  const select = () =>
    sql<BalanceRow>(`SELECT balance, low_balance_threshold, low_balance_alert_sent FROM billing_token_balance WHERE tenant_id = $1 FOR UPDATE`, [tenantId], transaction);
  const rows = await select();
  if (rows[0]) return rows[0];
  // First change for this tenant: create the row (a concurrent first change may win; either way, lock it).
  await sql(`INSERT INTO billing_token_balance (tenant_id, balance) VALUES ($1, 0) ON CONFLICT (tenant_id) DO NOTHING`, [tenantId], transaction);
  return (await select())[0]!;
}

export async function applyTokenChange(change: LedgerChange, transaction?: Transaction): Promise<LedgerResult> {
  if (!transaction) return db().transaction((t) => applyTokenChange(change, t));
  if (!Number.isInteger(change.amount)) throw new TypeError('ledger amounts are whole tokens');
  const row = await lockBalance(change.tenantId, transaction);
  let amount = change.amount;
  if (amount < 0 && row.balance + amount < 0) {
    if (!change.clampToBalance) throw insufficientTokens();
    amount = -row.balance;
  }
  const balanceAfter = row.balance + amount;
  const debit = amount < 0 ? -amount : 0;
  const purchased = amount > 0 && change.purchased ? amount : 0;
  const crossesLow = balanceAfter < row.low_balance_threshold && !row.low_balance_alert_sent && amount < 0;
  const rearm = balanceAfter >= row.low_balance_threshold && row.low_balance_alert_sent && amount > 0;
  const metadata = { ...(change.metadata ?? {}), ...(amount !== change.amount ? { requested: change.amount, shortfall: amount - change.amount } : {}) };
  // One round trip for both writes: the row lock is held until commit, so fewer trips mean more changes
  // per second on a busy tenant.
  const [tx] = await sql<{ id: string }>(
    `WITH changed AS (
       UPDATE billing_token_balance SET balance = $1, lifetime_used = lifetime_used + $2,
         lifetime_purchased = lifetime_purchased + $3,
         low_balance_alert_sent = CASE WHEN $4::boolean THEN TRUE WHEN $5::boolean THEN FALSE ELSE low_balance_alert_sent END,
         updated_at = NOW()
       WHERE tenant_id = $6 RETURNING tenant_id)
     INSERT INTO billing_token_transaction (tenant_id, amount, operation, balance_after, metadata)
     SELECT tenant_id, $7, $8, $1, $9::jsonb FROM changed RETURNING id`,
    [balanceAfter, debit, purchased, crossesLow, rearm, change.tenantId, amount, change.operation, JSON.stringify(metadata)],
    transaction,
  );
  if (crossesLow) {
    await recordAudit(
      { tenantId: change.tenantId, action: 'billing.low_balance', resourceType: 'token_balance', details: { balance: balanceAfter, threshold: row.low_balance_threshold } },
      transaction,
    );
    transaction.afterCommit(() =>
      emit('billing.low_balance', { tenantId: change.tenantId, balance: balanceAfter, threshold: row.low_balance_threshold }),
    );
  }
  return { transactionId: tx!.id, amount, balanceAfter };
}

export const debitTokens = (c: Omit<LedgerChange, 'amount' | 'purchased'> & { tokens: number }, t?: Transaction) =>
  applyTokenChange({ ...c, amount: -Math.abs(c.tokens) }, t);

export const creditTokens = (c: Omit<LedgerChange, 'amount' | 'clampToBalance'> & { tokens: number }, t?: Transaction) =>
  applyTokenChange({ ...c, amount: Math.abs(c.tokens) }, t);

export async function getBalance(tenantId: string, transaction?: Transaction): Promise<number> {
  const rows = await sql<{ balance: number }>(`SELECT balance FROM billing_token_balance WHERE tenant_id = $1`, [tenantId], transaction);
  return rows[0]?.balance ?? 0;
}

/** Fails with insufficient_tokens when the tenant has nothing left (checked before any model call). */
export async function assertHasTokens(tenantId: string, transaction?: Transaction): Promise<void> {
  if ((await getBalance(tenantId, transaction)) <= 0) throw insufficientTokens();
}
