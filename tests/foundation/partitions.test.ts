// Monthly partitions of analytics_usage: created ahead (this month + the next two), idempotent, rows
// parked in the default partition move into their month's partition when it is made, and an insert for
// a month without a partition still succeeds. Far-future years keep runs and files apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAnalyticsPartitions, partitionName } from '../../src/db/partitions.js';
import { signupTeam, useTestApp, type Team } from '../support/harness.js';
import { one, rows } from './helpers.js';

const t = useTestApp();
// A random far-future year per run (2091…2890), so repeated runs on a long-lived database do not meet.
const YEAR = 2091 + Math.floor(Math.random() * 800);
const made: string[] = [];
let team: Team;

const partitions = () =>
  rows<{ name: string; bound: string }>(
    t.db,
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'analytics_usage'::regclass AND c.relname LIKE :pattern ORDER BY c.relname`,
    { pattern: `analytics_usage_${YEAR}%` },
  );

async function insertUsage(createdAt: string) {
  const row = await one<{ id: string }>(
    t.db,
    `INSERT INTO analytics_usage (tenant_id, activity_type, tokens_used, created_at) VALUES (:tenantId, 'kb_query', 5, :createdAt) RETURNING id`,
    { tenantId: team.tenantId, createdAt },
  );
  return row!.id;
}

const whereIs = async (id: string) =>
  (await rows<{ p: string }>(t.db, `SELECT tableoid::regclass::text AS p FROM analytics_usage WHERE id = :id`, { id })).map((r) => r.p);

async function ensure(now: Date) {
  const created = await ensureAnalyticsPartitions(t.db, now);
  made.push(...created);
  return created;
}

beforeAll(async () => {
  team = await signupTeam();
});

afterAll(async () => {
  await t.db.query(`DELETE FROM analytics_usage WHERE tenant_id = :id`, { replacements: { id: team.tenantId } });
  for (const name of made) await t.db.query(`DROP TABLE IF EXISTS ${name}`);
});

describe('analytics_usage monthly partitions', () => {
  it('names partitions analytics_usage_YYYY_MM', () => {
    expect(partitionName(new Date(Date.UTC(2091, 0, 31)))).toBe('analytics_usage_2091_01');
    expect(partitionName(new Date(Date.UTC(2091, 11, 1)))).toBe('analytics_usage_2091_12');
  });

  it('creates this month’s and the next two months’ partitions (across a year end), and is idempotent', async () => {
    const now = new Date(Date.UTC(YEAR - 1, 10, 17, 13, 45)); // 17 November of YEAR-1
    const created = await ensure(now);
    expect(created).toEqual([`analytics_usage_${YEAR - 1}_11`, `analytics_usage_${YEAR - 1}_12`, `analytics_usage_${YEAR}_01`]);
    const bounds = await rows<{ name: string; bound: string }>(
      t.db,
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname IN (:names) ORDER BY c.relname`,
      { names: created },
    );
    expect(bounds).toEqual([
      { name: `analytics_usage_${YEAR - 1}_11`, bound: `FOR VALUES FROM ('${YEAR - 1}-11-01 00:00:00') TO ('${YEAR - 1}-12-01 00:00:00')` },
      { name: `analytics_usage_${YEAR - 1}_12`, bound: `FOR VALUES FROM ('${YEAR - 1}-12-01 00:00:00') TO ('${YEAR}-01-01 00:00:00')` },
      { name: `analytics_usage_${YEAR}_01`, bound: `FOR VALUES FROM ('${YEAR}-01-01 00:00:00') TO ('${YEAR}-02-01 00:00:00')` },
    ]);

    expect(await ensure(now)).toEqual([]);
    expect(await ensure(new Date(Date.UTC(YEAR - 1, 10, 1)))).toEqual([]);

    // Rows of those months land in their partition.
    const id = await insertUsage(`${YEAR - 1}-12-31 23:59:59`);
    expect(await whereIs(id)).toEqual([`analytics_usage_${YEAR - 1}_12`]);
  });

  it('moves rows parked in the default partition into their month’s partition when it is created', async () => {
    const early = await insertUsage(`${YEAR}-06-01 00:00:00`);
    const late = await insertUsage(`${YEAR}-06-30 23:59:59.999`);
    const july = await insertUsage(`${YEAR}-07-01 00:00:00`);
    for (const id of [early, late, july]) expect(await whereIs(id)).toEqual(['analytics_usage_default']);

    const created = await ensure(new Date(Date.UTC(YEAR, 5, 20)));
    expect(created).toEqual([`analytics_usage_${YEAR}_06`, `analytics_usage_${YEAR}_07`, `analytics_usage_${YEAR}_08`]);
    expect(await whereIs(early)).toEqual([`analytics_usage_${YEAR}_06`]);
    expect(await whereIs(late)).toEqual([`analytics_usage_${YEAR}_06`]);
    expect(await whereIs(july)).toEqual([`analytics_usage_${YEAR}_07`]);
    const stillDefault = await rows(t.db, `SELECT id FROM analytics_usage_default WHERE tenant_id = :id AND created_at >= :from`, {
      id: team.tenantId,
      from: `${YEAR}-06-01`,
    });
    expect(stillDefault).toEqual([]);
    // Nothing lost or duplicated: the tenant's rows of the year, counted through the parent.
    const counted = await one(t.db, `SELECT count(*)::int AS n, sum(tokens_used)::int AS tokens FROM analytics_usage WHERE tenant_id = :id AND created_at >= :from`, {
      id: team.tenantId,
      from: `${YEAR}-06-01`,
    });
    expect(counted).toEqual({ n: 3, tokens: 15 });
  });

  it('still accepts an insert for a month that has no partition (the default partition catches it)', async () => {
    const id = await insertUsage(`${YEAR}-10-15 08:00:00`);
    expect(await whereIs(id)).toEqual(['analytics_usage_default']);
    expect((await partitions()).map((p) => p.name)).not.toContain(`analytics_usage_${YEAR}_10`);
  });
});
