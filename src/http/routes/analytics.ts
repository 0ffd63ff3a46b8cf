// Usage analytics (own usage for everyone, the team's for managers+) and the audit log (admins/owners).
import { listAuditLog, MAX_RANGE_DAYS, usageReport } from '../../analytics/reports.js';
import { requireAuth } from '../middleware.js';
import { jsonRoute, Pagination, router, z } from '../openapi.js';

const Totals = { events: z.number().int(), tokensUsed: z.number().int(), executionTimeSeconds: z.number() };
const TotalsSchema = z.object(Totals).openapi('UsageTotals');

const UsageReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    scope: z.enum(['user', 'tenant']),
    userId: z.string().uuid().nullable(),
    totals: TotalsSchema,
    byActivity: z.array(z.object({ activityType: z.string(), ...Totals })),
    byDay: z.array(z.object({ date: z.string(), ...Totals, byActivity: z.record(z.string(), TotalsSchema) })),
  })
  .openapi('UsageReport');

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day written YYYY-MM-DD');

const UsageQuery = z.object({
  from: Day.optional().openapi({ description: 'First day (UTC), default 29 days before "to"' }),
  to: Day.optional().openapi({ description: 'Last day (UTC, included), default today' }),
  userId: z
    .union([z.string().uuid(), z.literal('me')])
    .optional()
    .openapi({ description: '"me" or a user id; managers+ get the whole team without it, members and viewers always get their own usage' }),
});

const AuditEntrySchema = z
  .object({
    id: z.string().uuid(),
    action: z.string(),
    userId: z.string().uuid().nullable(),
    userEmail: z.string().nullable(),
    resourceType: z.string().nullable(),
    resourceId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    ipAddress: z.string().nullable(),
    userAgent: z.string().nullable(),
    createdAt: z.date(),
  })
  .openapi('AuditEntry');

/** A day (YYYY-MM-DD: its start, or for "to" the end of it) or a full ISO timestamp. */
const DayOrTime = (endOfDay: boolean) =>
  z
    .string()
    .trim()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'a day (YYYY-MM-DD) or an ISO 8601 timestamp')
    .transform((v) => (/^\d{4}-\d{2}-\d{2}$/.test(v) && endOfDay ? new Date(Date.parse(v) + 86_400_000) : new Date(v)));

const AuditQuery = Pagination.extend({
  action: z.string().trim().min(1).max(100).optional().openapi({ description: 'Exact action, or a prefix such as "billing.*"' }),
  userId: z.string().uuid().optional(),
  resourceType: z.string().trim().min(1).max(50).optional(),
  resourceId: z.string().uuid().optional(),
  from: DayOrTime(false).optional().openapi({ description: 'From this day or time (included)' }),
  to: DayOrTime(true).optional().openapi({ description: 'Up to this time (excluded), or through the end of this day' }),
});

export const analyticsRoutes = router();
analyticsRoutes.use('/api/analytics/*', requireAuth);
analyticsRoutes.use('/api/audit', requireAuth);

analyticsRoutes
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/analytics/usage',
      tags: ['analytics'],
      summary: 'Usage by day and by activity type for a date range, with totals',
      description: `At most ${MAX_RANGE_DAYS} days. Members and viewers see their own usage; managers, admins and owners the team's, or one user's with userId.`,
      request: { query: UsageQuery },
      response: UsageReportSchema,
    }),
    async (c) => c.json((await usageReport(c.get('auth'), c.req.valid('query'))) as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/audit',
      tags: ['analytics'],
      summary: 'The audit log, newest first, filtered by action, user, resource and date (admins/owners)',
      request: { query: AuditQuery },
      response: z.object({ entries: z.array(AuditEntrySchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }),
    }),
    async (c) => c.json((await listAuditLog(c.get('auth'), c.req.valid('query'))) as never, 200),
  );
