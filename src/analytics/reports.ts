// Reading the trail: usage by day and by activity type over a date range (from the month-partitioned
// analytics_usage; a range query prunes to the months it covers), for one user or the whole team; and the
// audit log, paginated and filtered. Members and viewers see their own usage; managers and up the team's;
// the audit log is for admins and owners.
import { QueryTypes } from 'sequelize';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { db } from '../db/index.js';
import { badRequest, forbidden, notFound } from '../errors.js';

const DAY = 86_400_000;
export const MAX_RANGE_DAYS = 366;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export interface UsageTotals {
  events: number;
  tokensUsed: number;
  executionTimeSeconds: number;
}

export interface UsageReport {
  from: string;
  to: string;
  scope: 'user' | 'tenant';
  userId: string | null;
  totals: UsageTotals;
  byActivity: (UsageTotals & { activityType: string })[];
  byDay: (UsageTotals & { date: string; byActivity: Record<string, UsageTotals> })[];
}

/** Parse a YYYY-MM-DD day as UTC midnight. */
export function parseDay(value: string, name: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!d || isoDay(d) !== value) throw badRequest('invalid_date', `${name} must be a day written YYYY-MM-DD (got "${value}").`);
  return d;
}

const zero = (): UsageTotals => ({ events: 0, tokensUsed: 0, executionTimeSeconds: 0 });
const add = (a: UsageTotals, b: UsageTotals) => {
  a.events += b.events;
  a.tokensUsed += b.tokensUsed;
  a.executionTimeSeconds += b.executionTimeSeconds;
};
const round = (t: UsageTotals): UsageTotals => ({ ...t, executionTimeSeconds: Math.round(t.executionTimeSeconds * 1000) / 1000 });

/**
 * Usage between two days (both included, UTC). `userId` "me" or a user's id narrows it to one user; members
 * and viewers only ever get their own.
 */
export async function usageReport(auth: AuthContext, q: { from?: string; to?: string; userId?: string }): Promise<UsageReport> {
  authorize(policies.read(auth));
  const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
  const to = q.to ? parseDay(q.to, 'to') : today;
  const from = q.from ? parseDay(q.from, 'from') : new Date(to.getTime() - 29 * DAY);
  if (from > to) throw badRequest('invalid_range', '"from" must not be after "to".');
  const days = Math.round((to.getTime() - from.getTime()) / DAY) + 1;
  if (days > MAX_RANGE_DAYS) throw badRequest('invalid_range', `A report covers at most ${MAX_RANGE_DAYS} days (asked for ${days}).`);

  const teamView = policies.viewTenantAnalytics(auth);
  let userId: string | null = q.userId === 'me' ? auth.userId : (q.userId ?? null);
  if (!teamView) {
    if (userId && userId !== auth.userId) throw forbidden('forbidden', 'You can only see your own usage; managers and admins see the team’s.');
    userId = auth.userId;
  } else if (userId && userId !== auth.userId) {
    const found = await db().query(`SELECT 1 FROM core_user WHERE id = :userId AND tenant_id = :tenantId`, {
      replacements: { userId, tenantId: auth.tenantId },
      type: QueryTypes.SELECT,
    });
    if (!found.length) throw notFound('That user', 'user_not_found');
  }

  const rows = await db().query<{ day: string; activity_type: string; events: number; tokens: number; seconds: number }>(
    `SELECT to_char(created_at, 'YYYY-MM-DD') AS day, activity_type, count(*)::int AS events,
            COALESCE(sum(tokens_used), 0)::bigint AS tokens, COALESCE(sum(execution_time_seconds), 0)::float8 AS seconds
       FROM analytics_usage
      WHERE tenant_id = :tenantId AND created_at >= :from AND created_at < :end ${userId ? 'AND user_id = :userId' : ''}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    { replacements: { tenantId: auth.tenantId, from, end: new Date(to.getTime() + DAY), userId }, type: QueryTypes.SELECT },
  );

  const totals = zero();
  const byActivity = new Map<string, UsageTotals>();
  const byDay = new Map<string, UsageTotals & { byActivity: Record<string, UsageTotals> }>();
  for (let i = 0; i < days; i++) byDay.set(isoDay(new Date(from.getTime() + i * DAY)), { ...zero(), byActivity: {} });
  for (const r of rows) {
    const t: UsageTotals = { events: Number(r.events), tokensUsed: Number(r.tokens), executionTimeSeconds: Number(r.seconds) };
    add(totals, t);
    if (!byActivity.has(r.activity_type)) byActivity.set(r.activity_type, zero());
    add(byActivity.get(r.activity_type)!, t);
    const day = byDay.get(r.day)!;
    add(day, t);
    day.byActivity[r.activity_type] = round(t);
  }
  return {
    from: isoDay(from),
    to: isoDay(to),
    scope: userId ? 'user' : 'tenant',
    userId,
    totals: round(totals),
    byActivity: [...byActivity].map(([activityType, t]) => ({ activityType, ...round(t) })).sort((a, b) => b.tokensUsed - a.tokensUsed || a.activityType.localeCompare(b.activityType)),
    byDay: [...byDay].map(([date, t]) => ({ date, ...round(t), byActivity: t.byActivity })),
  };
}

export interface AuditEntryView {
  id: string;
  action: string;
  userId: string | null;
  userEmail: string | null;
  resourceType: string | null;
  resourceId: string | null;
  details: Record<string, unknown>;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
}

export interface AuditQuery {
  limit: number;
  offset: number;
  /** Exact action, or a prefix ending in "." or ".*" ("billing.*"). */
  action?: string;
  userId?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
}

export async function listAuditLog(auth: AuthContext, q: AuditQuery): Promise<{ entries: AuditEntryView[]; total: number; limit: number; offset: number }> {
  authorize(policies.viewAudit(auth), 'Only admins and owners can read the audit log.');
  const where = ['a.tenant_id = :tenantId'];
  let action = q.action;
  if (action?.endsWith('.*')) action = action.slice(0, -1);
  if (action?.endsWith('.')) where.push(`a.action LIKE :actionPrefix`);
  else if (action) where.push('a.action = :action');
  if (q.userId) where.push('a.user_id = :userId');
  if (q.resourceType) where.push('a.resource_type = :resourceType');
  if (q.resourceId) where.push('a.resource_id = :resourceId');
  if (q.from) where.push('a.created_at >= :from');
  if (q.to) where.push('a.created_at < :to');
  const replacements = {
    tenantId: auth.tenantId,
    action,
    actionPrefix: action ? action.replace(/[\\%_]/g, (c) => `\\${c}`) + '%' : undefined,
    userId: q.userId,
    resourceType: q.resourceType,
    resourceId: q.resourceId,
    from: q.from,
    to: q.to,
    limit: q.limit,
    offset: q.offset,
  };
  const [rows, count] = await Promise.all([
    db().query<{ id: string; action: string; user_id: string | null; email: string | null; resource_type: string | null; resource_id: string | null; details: Record<string, unknown>; ip_address: string | null; user_agent: string | null; created_at: Date }>(
      `SELECT a.id, a.action, a.user_id, u.email, a.resource_type, a.resource_id, a.details, host(a.ip_address) AS ip_address, a.user_agent, a.created_at
         FROM audit_log a LEFT JOIN core_user u ON u.id = a.user_id AND u.tenant_id = a.tenant_id
        WHERE ${where.join(' AND ')} ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset`,
      { replacements, type: QueryTypes.SELECT },
    ),
    db().query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log a WHERE ${where.join(' AND ')}`, { replacements, type: QueryTypes.SELECT }),
  ]);
  return {
    entries: rows.map((r) => ({
      id: r.id,
      action: r.action,
      userId: r.user_id,
      userEmail: r.email,
      resourceType: r.resource_type,
      resourceId: r.resource_id,
      details: r.details ?? {},
      ipAddress: r.ip_address,
      userAgent: r.user_agent,
      createdAt: r.created_at,
    })),
    total: count[0]?.n ?? 0,
    limit: q.limit,
    offset: q.offset,
  };
}
