// Ledger debits per second on PostgreSQL: 1, 16 and 64 concurrent writers, all on one tenant (they queue on
// its balance row lock) or spread over 64 tenants; then every touched balance is verified exact against
// what the writers debited and against the ledger rows (sum, lifetime_used, and the balance_after chain).
//
//   npm run bench:ledger                       # DATABASE_URL or postgres://postgres@127.0.0.1:5432/fs_bench
//   BENCH_SECONDS=5 npm run bench:ledger       # seconds per scenario (default 3)
//
// The database is created (with the vector extension) when missing and migrated; the bench adds its own
// tenants and leaves the rest alone.
import { QueryTypes } from 'sequelize';
import { debitTokens, creditTokens } from '../src/billing/ledger.js';
import { loadConfig, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { log } from '../src/log.js';
import { ensureBenchDatabase } from './support/database.js';

const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/fs_bench';
const seconds = Number(process.env.BENCH_SECONDS || 3);
const INITIAL = 1_000_000_000;


await ensureBenchDatabase(url);
const cfg = loadConfig({ ...process.env, DATABASE_URL: url, DB_POOL_MAX: '70', LOG_LEVEL: 'warn', RUN_WORKERS: 'false' });
setConfig(cfg);
log.level = 'warn';
const database = await openDatabase(cfg);
const sql = database.sequelize;
const version = (await sql.query<{ v: string }>(`SELECT current_setting('server_version') AS v`, { type: QueryTypes.SELECT }))[0]!.v;

async function makeTenants(n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  const run = Date.now().toString(36);
  for (let i = 0; i < n; i++) {
    const [row] = await sql.query<{ id: string }>(`INSERT INTO core_tenant (name, slug) VALUES (:name, :slug) RETURNING id`, {
      replacements: { name: `bench ${label} ${i}`, slug: `bench-${label}-${run}-${i}` },
      type: QueryTypes.SELECT,
    });
    await creditTokens({ tenantId: row!.id, tokens: INITIAL, operation: 'bench_setup' });
    ids.push(row!.id);
  }
  return ids;
}

interface Result {
  writers: number;
  tenants: number;
  debits: number;
  failed: number;
  perSecond: number;
  p50: number;
  p99: number;
  exact: boolean;
}

async function scenario(writers: number, tenantCount: number): Promise<Result> {
  const tenants = await makeTenants(tenantCount, `w${writers}t${tenantCount}`);
  const debited = new Map<string, number>(tenants.map((t) => [t, 0]));
  const latencies: number[] = [];
  const errors: string[] = [];
  let seed = writers * 7919 + tenantCount;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let i = 0;
      while (performance.now() < deadline) {
        const tenantId = tenants[(w + i++ * writers) % tenants.length]!;
        const tokens = 1 + Math.floor(rnd() * 1000);
        const t0 = performance.now();
        try {
          await debitTokens({ tenantId, tokens, operation: 'bench_debit' });
        } catch (err) {
          // A failed debit changes nothing (its transaction rolled back); the verification below checks that.
          errors.push((err as Error).message);
          continue;
        }
        latencies.push(performance.now() - t0);
        debited.set(tenantId, debited.get(tenantId)! + tokens);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;

  // Verify every tenant: balance, lifetime_used, ledger sum and the balance_after chain.
  let exact = true;
  for (const tenantId of tenants) {
    const [bal] = await sql.query<{ balance: number; lifetime_used: number }>(`SELECT balance, lifetime_used FROM billing_token_balance WHERE tenant_id = :tenantId`, {
      replacements: { tenantId },
      type: QueryTypes.SELECT,
    });
    const ledger = await sql.query<{ amount: number; balance_after: number }>(
      `SELECT amount, balance_after FROM billing_token_transaction WHERE tenant_id = :tenantId AND operation = 'bench_debit'`,
      { replacements: { tenantId }, type: QueryTypes.SELECT },
    );
    const expected = INITIAL - debited.get(tenantId)!;
    const sum = ledger.reduce((s, r) => s + r.amount, 0);
    const chain = new Map<number, number>();
    for (const r of ledger) {
      chain.set(r.balance_after - r.amount, (chain.get(r.balance_after - r.amount) ?? 0) + 1);
      chain.set(r.balance_after, (chain.get(r.balance_after) ?? 0) - 1);
    }
    chain.set(INITIAL, (chain.get(INITIAL) ?? 0) - 1);
    chain.set(bal!.balance, (chain.get(bal!.balance) ?? 0) + 1);
    const chainOk = [...chain.values()].every((v) => v === 0);
    if (bal!.balance !== expected || bal!.lifetime_used !== debited.get(tenantId) || sum !== -debited.get(tenantId)! || !chainOk) {
      exact = false;
      console.error(`MISMATCH tenant ${tenantId}: balance ${bal!.balance} expected ${expected}, lifetime_used ${bal!.lifetime_used}, ledger sum ${sum}, chain ${chainOk}`);
    }
  }
  if (errors.length) console.error(`${writers} writers / ${tenantCount} tenants: ${errors.length} debits failed (first: ${errors[0]})`);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { writers, tenants: tenantCount, debits: latencies.length, failed: errors.length, perSecond: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), exact };
}

const results: Result[] = [];
try {
  // Warm up the pool's connections and the statements' plans.
  const [warm] = await makeTenants(1, 'warmup');
  await Promise.all(Array.from({ length: 64 }, () => debitTokens({ tenantId: warm!, tokens: 1, operation: 'bench_warmup' })));
  for (const tenants of [1, 64]) for (const writers of [1, 16, 64]) results.push(await scenario(writers, tenants));
} finally {
  await database.close();
}

console.log(`\nLedger debits on PostgreSQL ${version} (${url.replace(/\/\/[^@]*@/, '//')}), ${seconds} s per scenario, pool 70\n`);
console.log('| writers | tenants | debits | failed | debits/s | p50 ms | p99 ms | balances exact |');
console.log('|--------:|--------:|-------:|-------:|---------:|-------:|-------:|:--------------:|');
for (const r of results)
  console.log(`| ${r.writers} | ${r.tenants} | ${r.debits} | ${r.failed} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.exact ? 'yes' : 'NO'} |`);
if (results.some((r) => !r.exact)) process.exitCode = 1;
