// The token ledger under concurrency: many debits racing on one tenant never lose or double a change,
// never drive the balance below zero, and leave a billing_token_transaction chain whose balance_after is
// exact; concurrent chat turns of one team are each charged exactly once.
import { describe, expect, it } from 'vitest';
import { creditTokens, debitTokens } from '../../src/billing/ledger.js';
import { db } from '../../src/db/index.js';
import { signupTeam, useTestApp } from '../support/harness.js';
import { addMember, balanceOf, chat, rows } from './support/chat.js';

useTestApp();

interface Tx {
  amount: number;
  balance_after: number;
  operation: string;
  metadata: any;
}
const transactions = (tenantId: string) =>
  rows<Tx>(`SELECT amount, balance_after, operation, metadata FROM billing_token_transaction WHERE tenant_id = :tenantId`, { tenantId });

/** Every change is applied to the balance left by the one before it: a total order with exact balance_after. */
function expectExactChain(txs: Tx[], start: number) {
  // Balances only go down in these tests, so the order of application is balance_after descending; ties
  // are only possible between zero-amount (fully clamped) debits, which change nothing.
  const ordered = [...txs].sort((x, y) => y.balance_after - x.balance_after || x.amount - y.amount);
  let balance = start;
  for (const tx of ordered) {
    expect(tx.balance_after).toBe(balance + tx.amount);
    expect(tx.balance_after).toBeGreaterThanOrEqual(0);
    balance = tx.balance_after;
  }
  return balance;
}

/** Deterministic sizes (a tiny LCG), so a failure can be replayed. */
function sizes(n: number, seed: number, max: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return 1 + (s % max);
  });
}

describe('token ledger', () => {
  it('applies 200 concurrent debits exactly: no loss, no double, never below zero, the rest refused with insufficient_tokens', async () => {
    const team = await signupTeam();
    const start = await balanceOf(team.tenantId);
    const before = await transactions(team.tenantId);
    const amounts = sizes(200, 42, 600); // ≈ 60k requested against 50k
    expect(amounts.reduce((a, b) => a + b, 0)).toBeGreaterThan(start);

    const results = await Promise.allSettled(amounts.map((tokens, i) => debitTokens({ tenantId: team.tenantId, tokens, operation: 'test_debit', metadata: { i } })));

    const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, tokens: amounts[i]!, result: r.value }] : []));
    const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, tokens: amounts[i]!, reason: r.reason }] : []));
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'insufficient_tokens', status: 402 });

    const final = await balanceOf(team.tenantId);
    const debited = ok.reduce((a, o) => a + o.tokens, 0);
    expect(final).toBe(start - debited);
    expect(final).toBeGreaterThanOrEqual(0);
    // Refused only when it did not fit: the balance never went below what is left now.
    for (const r of refused) expect(r.tokens).toBeGreaterThan(final);

    const txs = (await transactions(team.tenantId)).filter((t) => t.operation === 'test_debit');
    expect(txs).toHaveLength(ok.length);
    expect(txs.map((t) => t.metadata.i).sort((x, y) => x - y)).toEqual(ok.map((o) => o.i));
    for (const o of ok) expect(txs.find((t) => t.metadata.i === o.i)).toMatchObject({ amount: -o.tokens, balance_after: o.result.balanceAfter });
    expect(expectExactChain(txs, start)).toBe(final);
    expect((await transactions(team.tenantId)).length).toBe(before.length + ok.length);

    const [row] = await rows<{ lifetime_used: number }>(`SELECT lifetime_used FROM billing_token_balance WHERE tenant_id = :t`, { t: team.tenantId });
    expect(row!.lifetime_used).toBe(debited);
  });

  it('with clampToBalance charges what is left, ends at exactly zero, and records each shortfall', async () => {
    const team = await signupTeam();
    await debitTokens({ tenantId: team.tenantId, tokens: (await balanceOf(team.tenantId)) - 1000, operation: 'test_setup' });
    const start = await balanceOf(team.tenantId);
    expect(start).toBe(1000);
    const amounts = sizes(40, 7, 100); // ≈ 2k requested against 1k

    const results = await Promise.all(amounts.map((tokens) => debitTokens({ tenantId: team.tenantId, tokens, operation: 'test_clamped', clampToBalance: true })));

    expect(await balanceOf(team.tenantId)).toBe(0);
    expect(-results.reduce((a, r) => a + r.amount, 0)).toBe(start);
    const txs = (await transactions(team.tenantId)).filter((t) => t.operation === 'test_clamped');
    expect(txs).toHaveLength(40);
    expect(expectExactChain(txs, start)).toBe(0);
    const short = txs.filter((t) => t.metadata.shortfall !== undefined);
    expect(short.length).toBeGreaterThan(0);
    for (const t of short) {
      expect(t.metadata.requested).toBeLessThan(t.amount);
      expect(t.metadata.shortfall).toBe(t.amount - t.metadata.requested);
    }
    const requested = amounts.reduce((a, b) => a + b, 0);
    expect(short.reduce((a, t) => a + t.metadata.shortfall, 0)).toBe(requested - start);
    // Debits without clamping are now refused.
    await expect(debitTokens({ tenantId: team.tenantId, tokens: 1, operation: 'test_clamped' })).rejects.toMatchObject({ code: 'insufficient_tokens' });
  });

  it('keeps credits and debits racing together exact', async () => {
    const team = await signupTeam();
    const start = await balanceOf(team.tenantId);
    const ops = sizes(100, 99, 500).map((tokens, i) =>
      i % 4 === 0 ? creditTokens({ tenantId: team.tenantId, tokens, operation: 'test_credit' }) : debitTokens({ tenantId: team.tenantId, tokens, operation: 'test_debit' }),
    );
    const results = await Promise.allSettled(ops);
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const final = await balanceOf(team.tenantId);
    expect(final).toBe(start + applied.reduce((a, r) => a + r.amount, 0));
    const txs = (await transactions(team.tenantId)).filter((t) => t.operation.startsWith('test_'));
    expect(txs).toHaveLength(applied.length);
    // A single chain start → … → final: the balances before each change are exactly the start plus every
    // balance after, but the last.
    const befores = txs.map((t) => t.balance_after - t.amount).sort((x, y) => x - y);
    const afters = [start, ...txs.map((t) => t.balance_after)];
    afters.splice(afters.lastIndexOf(final), 1);
    expect(befores).toEqual(afters.sort((x, y) => x - y));
    expect(txs.every((t) => t.balance_after >= 0)).toBe(true);
  });

  it('charges each of 10 concurrent chat turns of one team exactly once', async () => {
    const team = await signupTeam();
    await db().query(`UPDATE core_tenant SET max_users = 20 WHERE id = :id`, { replacements: { id: team.tenantId } });
    const people = [{ token: team.token, userId: team.userId }];
    for (let i = 0; i < 9; i++) people.push(await addMember(team));
    const start = await balanceOf(team.tenantId);
    const questions = ['Hello, who are you?', 'What preferences do you remember about me?', 'Remember that my favourite colour is teal'];

    // The offline model answers (no provider configured): deterministic, real token counts.
    const turns = await Promise.all(people.map((p, i) => chat(p.token, { message: questions[i % questions.length]! })));

    const messageIds = turns.map((t) => t.messageId);
    const usage = await rows<{ tokens_used: number; metadata: any }>(
      `SELECT tokens_used, metadata FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'chat_turn'`,
      { t: team.tenantId },
    );
    expect(usage.map((u) => u.metadata.messageId).sort()).toEqual([...messageIds].sort());
    expect(usage.every((u) => u.tokens_used > 0)).toBe(true);

    const charges = (await transactions(team.tenantId)).filter((t) => t.operation === 'chat_turn');
    expect(charges.map((c) => c.metadata.messageId).sort()).toEqual([...messageIds].sort());
    for (const u of usage) expect(charges.find((c) => c.metadata.messageId === u.metadata.messageId)!.amount).toBe(-u.tokens_used);
    const total = usage.reduce((a, u) => a + u.tokens_used, 0);
    expect(-charges.reduce((a, c) => a + c.amount, 0)).toBe(total);
    expect(await balanceOf(team.tenantId)).toBe(start - total);
    expect(expectExactChain(charges, start)).toBe(start - total);
  });
});
