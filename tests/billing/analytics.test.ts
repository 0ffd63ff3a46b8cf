// Usage analytics and the audit log through the API: sums by day and by activity checked against the raw
// rows across three monthly partitions, range edges, who sees whose usage, cross-tenant attempts; the audit
// log's filters and pagination, admins only.
import { QueryTypes } from 'sequelize';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/analytics/audit.js';
import { db } from '../../src/db/index.js';
import { ensureAnalyticsPartitions } from '../../src/db/partitions.js';
import { call, signupTeam, type Team } from '../support/harness.js';
import { addMember, rows, useBillingApp } from './support.js';
import { mulberry32 } from '../support/random.js';

useBillingApp();

const ACTIVITIES = ['chat_turn', 'document_generated', 'kb_query'];

interface Raw {
  userId: string | null;
  activityType: string;
  tokens: number;
  seconds: number;
  at: Date;
}

async function insert(tenantId: string, raws: Raw[]) {
  for (let i = 0; i < raws.length; i += 200) {
    const chunk = raws.slice(i, i + 200);
    const values = chunk.map((_, j) => `(:t, :u${j}, :a${j}, :k${j}, :s${j}, :c${j})`).join(', ');
    const replacements: Record<string, unknown> = { t: tenantId };
    chunk.forEach((r, j) => Object.assign(replacements, { [`u${j}`]: r.userId, [`a${j}`]: r.activityType, [`k${j}`]: r.tokens, [`s${j}`]: r.seconds, [`c${j}`]: r.at }));
    await db().query(`INSERT INTO analytics_usage (tenant_id, user_id, activity_type, tokens_used, execution_time_seconds, created_at) VALUES ${values}`, { replacements });
  }
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const sum = (xs: Raw[]) => ({ events: xs.length, tokensUsed: xs.reduce((s, r) => s + r.tokens, 0), executionTimeSeconds: Math.round(xs.reduce((s, r) => s + r.seconds, 0) * 1000) / 1000 });

describe('usage analytics across month partitions', () => {
  let team: Team;
  let member: { id: string; token: string };
  let manager: { id: string; token: string };
  let viewer: { id: string; token: string };
  let other: Team;
  let inRange: Raw[];
  const FROM = '2025-01-30';
  const TO = '2025-03-02';

  beforeAll(async () => {
    await ensureAnalyticsPartitions(db(), new Date(Date.UTC(2025, 0, 1)), 2); // January..March 2025
    team = await signupTeam();
    member = await addMember(team, 'member');
    manager = await addMember(team, 'manager');
    viewer = await addMember(team, 'viewer');
    other = await signupTeam();
    const rnd = mulberry32(42);
    const start = Date.UTC(2025, 0, 30);
    const end = Date.UTC(2025, 2, 3);
    const users = [team.userId, member.id, manager.id, null];
    inRange = Array.from({ length: 900 }, () => ({
      userId: users[Math.floor(rnd() * users.length)]!,
      activityType: ACTIVITIES[Math.floor(rnd() * ACTIVITIES.length)]!,
      tokens: Math.floor(rnd() * 5000),
      seconds: Math.round(rnd() * 10_000) / 1000,
      at: new Date(start + Math.floor(rnd() * (end - start))),
    }));
    // Exactly on the edges: the first instant counts, the instant after the last day does not.
    inRange.push({ userId: team.userId, activityType: 'chat_turn', tokens: 7, seconds: 1, at: new Date(start) });
    inRange.push({ userId: team.userId, activityType: 'chat_turn', tokens: 11, seconds: 1, at: new Date(end - 1) });
    const outside: Raw[] = [
      { userId: team.userId, activityType: 'chat_turn', tokens: 1000, seconds: 1, at: new Date(start - 1) },
      { userId: team.userId, activityType: 'chat_turn', tokens: 1000, seconds: 1, at: new Date(end) },
    ];
    await insert(team.tenantId, [...inRange, ...outside]);
    await insert(other.tenantId, inRange.map((r) => ({ ...r, userId: other.userId })));
  });

  it('spreads the rows over the monthly partitions', async () => {
    const parts = await db().query<{ part: string; n: number }>(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM analytics_usage WHERE tenant_id = :id GROUP BY 1 ORDER BY 1`,
      { replacements: { id: team.tenantId }, type: QueryTypes.SELECT },
    );
    expect(parts.map((p) => p.part)).toEqual(['analytics_usage_2025_01', 'analytics_usage_2025_02', 'analytics_usage_2025_03']);
  });

  it('gives the team’s totals, per day and per activity, equal to the raw rows', async () => {
    const res = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}`, { token: team.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: FROM, to: TO, scope: 'tenant', userId: null });
    expect(res.body.totals).toEqual(sum(inRange));
    // ...and equal to what the database sums itself.
    const db_ = await db().query<{ events: number; tokens: number }>(
      `SELECT count(*)::int AS events, sum(tokens_used)::bigint AS tokens FROM analytics_usage WHERE tenant_id = :id AND created_at >= '2025-01-30' AND created_at < '2025-03-03'`,
      { replacements: { id: team.tenantId }, type: QueryTypes.SELECT },
    );
    expect(res.body.totals).toMatchObject({ events: db_[0]!.events, tokensUsed: db_[0]!.tokens });

    expect(res.body.byDay).toHaveLength(32);
    expect(res.body.byDay[0].date).toBe(FROM);
    expect(res.body.byDay.at(-1).date).toBe(TO);
    for (const d of res.body.byDay) {
      const raw = inRange.filter((r) => day(r.at) === d.date);
      expect({ events: d.events, tokensUsed: d.tokensUsed, executionTimeSeconds: d.executionTimeSeconds }, d.date).toEqual(sum(raw));
      for (const a of ACTIVITIES) {
        const ra = raw.filter((r) => r.activityType === a);
        if (ra.length) expect(d.byActivity[a]).toEqual(sum(ra));
        else expect(d.byActivity[a]).toBeUndefined();
      }
    }
    for (const a of res.body.byActivity) expect({ events: a.events, tokensUsed: a.tokensUsed, executionTimeSeconds: a.executionTimeSeconds }).toEqual(sum(inRange.filter((r) => r.activityType === a.activityType)));
    // A month boundary day on its own.
    const feb1 = await call('GET', `/api/analytics/usage?from=2025-02-01&to=2025-02-01`, { token: team.token });
    expect(feb1.body.totals).toEqual(sum(inRange.filter((r) => day(r.at) === '2025-02-01')));
  });

  it('shows members and viewers only their own usage; managers anyone’s in the team', async () => {
    const mine = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}`, { token: member.token });
    expect(mine.body).toMatchObject({ scope: 'user', userId: member.id });
    expect(mine.body.totals).toEqual(sum(inRange.filter((r) => r.userId === member.id)));
    const peek = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}&userId=${team.userId}`, { token: member.token });
    expect(peek.status).toBe(403);
    const viewerOwn = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}&userId=me`, { token: viewer.token });
    expect(viewerOwn.body.totals.events).toBe(0);

    const byManager = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}&userId=${member.id}`, { token: manager.token });
    expect(byManager.body.totals).toEqual(mine.body.totals);
    const managerOwn = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}&userId=me`, { token: manager.token });
    expect(managerOwn.body.totals).toEqual(sum(inRange.filter((r) => r.userId === manager.id)));

    // Another team's user is not found from here, and that team's rows never count.
    const cross = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}&userId=${other.userId}`, { token: team.token });
    expect(cross.status).toBe(404);
    expect(cross.body.error.code).toBe('user_not_found');
    const theirs = await call('GET', `/api/analytics/usage?from=${FROM}&to=${TO}`, { token: other.token });
    expect(theirs.body.totals).toEqual(sum(inRange));
  });

  it('refuses bad ranges with clear codes', async () => {
    const cases: [string, string][] = [
      ['from=2025-03-02&to=2025-01-30', 'invalid_range'],
      ['from=2023-01-01&to=2025-01-01', 'invalid_range'],
      ['from=2025-02-30&to=2025-03-01', 'invalid_date'],
      ['from=yesterday', 'validation_error'],
      ['userId=not-a-uuid', 'validation_error'],
    ];
    for (const [q, code] of cases) {
      const res = await call('GET', `/api/analytics/usage?${q}`, { token: team.token });
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBe(code);
    }
    const dflt = await call('GET', '/api/analytics/usage', { token: team.token });
    expect(dflt.status).toBe(200);
    expect(dflt.body.byDay).toHaveLength(30);
  });
});

describe('audit log API', () => {
  it('filters by action (exact or prefix), user, resource and date, paginates, and is for admins only', async () => {
    const team = await signupTeam();
    const admin = await addMember(team, 'admin');
    const manager = await addMember(team, 'manager');
    const other = await signupTeam();
    const resourceId = '11111111-2222-4333-8444-555555555555';
    const at = (iso: string) => db().query(`UPDATE audit_log SET created_at = :iso WHERE id = (SELECT id FROM audit_log WHERE tenant_id = :t ORDER BY created_at DESC LIMIT 1)`, { replacements: { iso, t: team.tenantId } });
    await recordAudit({ tenantId: team.tenantId, userId: team.userId, action: 'billing.checkout_started', resourceType: 'subscription', details: { plan: 'standard' } });
    await at('2025-05-01T10:00:00Z');
    await recordAudit({ tenantId: team.tenantId, userId: admin.id, action: 'billing.portal_opened', resourceType: 'subscription', ip: '10.0.0.9' });
    await at('2025-05-02T10:00:00Z');
    await recordAudit({ tenantId: team.tenantId, userId: admin.id, action: 'document.deleted', resourceType: 'document', resourceId });
    await at('2025-05-03T10:00:00Z');
    await recordAudit({ tenantId: other.tenantId, userId: other.userId, action: 'billing.checkout_started', resourceType: 'subscription' });

    const all = await call('GET', '/api/audit?limit=100', { token: admin.token });
    expect(all.status).toBe(200);
    expect(all.body.entries.every((e: any) => e.userId !== other.userId)).toBe(true);
    const dates = all.body.entries.map((e: any) => Date.parse(e.createdAt));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));

    const billing = await call('GET', '/api/audit?action=billing.*', { token: admin.token });
    expect(billing.body.entries.map((e: any) => e.action).sort()).toEqual(['billing.checkout_started', 'billing.portal_opened']);
    expect((await call('GET', '/api/audit?action=billing.portal_opened', { token: admin.token })).body.entries[0]).toMatchObject({ userId: admin.id, userEmail: admin.email, ipAddress: '10.0.0.9' });
    expect((await call('GET', `/api/audit?userId=${admin.id}&from=2025-05-01&to=2025-05-03`, { token: admin.token })).body.entries.map((e: any) => e.action)).toEqual(['document.deleted', 'billing.portal_opened']);
    expect((await call('GET', `/api/audit?resourceType=document&resourceId=${resourceId}`, { token: admin.token })).body.total).toBe(1);
    expect((await call('GET', '/api/audit?from=2025-05-02T00:00:00Z&to=2025-05-03T00:00:00Z', { token: admin.token })).body.entries.map((e: any) => e.action)).toEqual(['billing.portal_opened']);
    expect((await call('GET', '/api/audit?action=billing.%25', { token: admin.token })).body.total).toBe(0);

    const page1 = await call('GET', '/api/audit?limit=2&offset=0', { token: admin.token });
    const page2 = await call('GET', '/api/audit?limit=2&offset=2', { token: admin.token });
    expect(page1.body.total).toBe(all.body.total);
    expect([...page1.body.entries, ...page2.body.entries].map((e: any) => e.id)).toEqual(all.body.entries.slice(0, 4).map((e: any) => e.id));

    for (const token of [manager.token]) {
      const res = await call('GET', '/api/audit', { token });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect((await call('GET', '/api/audit?from=not-a-date', { token: admin.token })).status).toBe(400);
    expect(await rows(`SELECT 1 FROM audit_log WHERE tenant_id = :id AND action = 'billing.checkout_started'`, { id: other.tenantId })).toHaveLength(1);
  });
});
