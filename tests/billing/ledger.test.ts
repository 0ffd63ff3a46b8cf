// The token ledger under load: 500 concurrent debits and credits on one team leave an exact balance, a
// gap-free chain of balance_after values, exact lifetime counters and no negative balance; the low-balance
// alert fires once when the balance crosses the threshold (even when many debits cross it together) and
// re-arms after a top-up.
import { describe, expect, it } from 'vitest';
import { creditTokens, debitTokens } from '../../src/billing/ledger.js';
import { on } from '../../src/events.js';
import { signupTeam } from '../support/harness.js';
import { balanceOf, ledgerOf, rows, useBillingApp } from './support.js';

useBillingApp();

/**
 * In any serial history each transaction starts from the balance the previous one left, so the multiset of
 * "balance before" values minus the multiset of "balance after" values is exactly {start} − {end}.
 */
function assertChain(ledger: { amount: number; balance_after: number }[], start: number, end: number) {
  const count = new Map<number, number>();
  const bump = (k: number, d: number) => count.set(k, (count.get(k) ?? 0) + d);
  for (const r of ledger) {
    bump(r.balance_after - r.amount, 1);
    bump(r.balance_after, -1);
  }
  bump(start, -1);
  bump(end, 1);
  expect([...count].filter(([, v]) => v !== 0)).toEqual([]);
}

describe('ledger exactness', () => {
  it('500 concurrent debits and credits: exact balance, chain and counters, never negative', async () => {
    const team = await signupTeam();
    await debitTokens({ tenantId: team.tenantId, tokens: 45_000, operation: 'setup' });
    const start = await balanceOf(team.tenantId);
    expect(start.balance).toBe(5_000);
    const before = (await ledgerOf(team.tenantId)).length;

    const ops = Array.from({ length: 500 }, (_, i) =>
      i % 5 < 3
        ? { kind: 'debit' as const, tokens: 100 + (i % 50) }
        : { kind: 'credit' as const, tokens: 37 + (i % 40), purchased: i % 2 === 0 },
    );
    const results = await Promise.allSettled(
      ops.map((op) =>
        op.kind === 'debit'
          ? debitTokens({ tenantId: team.tenantId, tokens: op.tokens, operation: 'chat_turn' })
          : creditTokens({ tenantId: team.tenantId, tokens: op.tokens, operation: 'token_purchase', purchased: op.purchased }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.every((r) => r.reason.code === 'insufficient_tokens')).toBe(true);
    const ok = (i: number) => results[i]!.status === 'fulfilled';
    const debited = ops.reduce((s, op, i) => s + (op.kind === 'debit' && ok(i) ? op.tokens : 0), 0);
    const credited = ops.reduce((s, op, i) => s + (op.kind === 'credit' ? op.tokens : 0), 0);
    const purchased = ops.reduce((s, op, i) => s + (op.kind === 'credit' && op.purchased ? op.tokens : 0), 0);
    expect(ops.filter((op, i) => op.kind === 'credit' && !ok(i))).toHaveLength(0);

    const end = await balanceOf(team.tenantId);
    expect(end.balance).toBe(start.balance + credited - debited);
    expect(end.lifetime_used).toBe(start.lifetime_used + debited);
    expect(end.lifetime_purchased).toBe(start.lifetime_purchased + purchased);

    const ledger = (await ledgerOf(team.tenantId)).slice(before);
    expect(ledger).toHaveLength(500 - failed.length);
    expect(ledger.reduce((s, r) => s + r.amount, 0)).toBe(end.balance - start.balance);
    expect(Math.min(...ledger.map((r) => r.balance_after))).toBeGreaterThanOrEqual(0);
    assertChain(ledger, start.balance, end.balance);
    // Every result reported the balance it left.
    const reported = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ balanceAfter: number }>).value.balanceAfter).sort((a, b) => a - b);
    expect(reported).toEqual(ledger.map((r) => r.balance_after).sort((a, b) => a - b));
  });

  it('a clamped debit charges what is left and records the shortfall', async () => {
    const team = await signupTeam();
    const r = await debitTokens({ tenantId: team.tenantId, tokens: 60_000, operation: 'chat_turn', clampToBalance: true });
    expect(r).toMatchObject({ amount: -50_000, balanceAfter: 0 });
    const last = (await ledgerOf(team.tenantId)).at(-1)!;
    expect(last.metadata).toMatchObject({ requested: -60_000, shortfall: 10_000 });
    await expect(debitTokens({ tenantId: team.tenantId, tokens: 1, operation: 'chat_turn' })).rejects.toMatchObject({ code: 'insufficient_tokens', status: 402 });
    await expect(creditTokens({ tenantId: team.tenantId, tokens: 1.5, operation: 'x' })).rejects.toThrow(/whole tokens/);
  });
});

describe('low-balance alert', () => {
  it('fires once when concurrent debits cross the threshold, re-arms after a top-up, fires again', async () => {
    const team = await signupTeam();
    const seen: { balance: number; threshold: number }[] = [];
    const off = on('billing.low_balance', (p) => p.tenantId === team.tenantId && seen.push(p));
    try {
      // 40 × 1,500 against 50,000: 33 succeed, leaving 500 (< 1,000) — one alert, not one per debit.
      const results = await Promise.allSettled(Array.from({ length: 40 }, () => debitTokens({ tenantId: team.tenantId, tokens: 1_500, operation: 'chat_turn' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(33);
      expect((await balanceOf(team.tenantId)).balance).toBe(500);
      await expect.poll(() => seen.length).toBe(1);
      expect(seen[0]).toEqual({ tenantId: team.tenantId, balance: seen[0]!.balance, threshold: 1000 });
      expect(seen[0]!.balance).toBeLessThan(1000);
      expect((await balanceOf(team.tenantId)).low_balance_alert_sent).toBe(true);

      // A small credit that stays under the threshold does not re-arm; a top-up above it does.
      await creditTokens({ tenantId: team.tenantId, tokens: 100, operation: 'token_purchase' });
      expect((await balanceOf(team.tenantId)).low_balance_alert_sent).toBe(true);
      await debitTokens({ tenantId: team.tenantId, tokens: 50, operation: 'chat_turn' });
      await creditTokens({ tenantId: team.tenantId, tokens: 5_000, operation: 'token_purchase', purchased: true });
      expect((await balanceOf(team.tenantId)).low_balance_alert_sent).toBe(false);
      await debitTokens({ tenantId: team.tenantId, tokens: 5_000, operation: 'chat_turn' });
      await expect.poll(() => seen.length).toBe(2);
      const audits = await rows(`SELECT details FROM audit_log WHERE tenant_id = :id AND action = 'billing.low_balance' ORDER BY created_at`, { id: team.tenantId });
      expect(audits).toHaveLength(2);
      expect(audits[1].details).toEqual({ balance: 550, threshold: 1000 });
    } finally {
      off();
    }
  });

  it('a failed (rolled back) transaction emits no alert', async () => {
    const team = await signupTeam();
    const seen: unknown[] = [];
    const off = on('billing.low_balance', (p) => p.tenantId === team.tenantId && seen.push(p));
    try {
      const { db } = await import('../../src/db/index.js');
      await expect(
        db().transaction(async (tx) => {
          await debitTokens({ tenantId: team.tenantId, tokens: 49_500, operation: 'chat_turn' }, tx);
          throw new Error('the document failed to render');
        }),
      ).rejects.toThrow(/render/);
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(0);
      expect(await balanceOf(team.tenantId)).toMatchObject({ balance: 50_000, low_balance_alert_sent: false });
    } finally {
      off();
    }
  });
});
