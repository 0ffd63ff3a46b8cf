// At-most-once intake of channel events. Slack retries an event it thinks we missed (same event_id, with
// X-Slack-Retry-Num) and Teams may deliver an activity twice; the first delivery claims the id with one
// INSERT … ON CONFLICT DO NOTHING, every later one sees it taken and is only acknowledged. The claim is
// made before the acknowledgement, so a turn is never started twice (losing an event to a crash between
// claim and turn is preferred over charging twice).
import { QueryTypes } from 'sequelize';
import { db } from '../../db/index.js';

export type EventChannel = 'slack' | 'teams';

/** Days an id is remembered: far longer than either platform retries. */
const RETAIN_DAYS = 3;

/** True when this call is the first to see (channel, eventId). */
export async function claimEvent(channel: EventChannel, eventId: string, tenantId?: string | null): Promise<boolean> {
  const rows = await db().query<{ event_id: string }>(
    `INSERT INTO channels_processed_event (channel, event_id, tenant_id) VALUES (:channel, :eventId, :tenantId)
     ON CONFLICT (channel, event_id) DO NOTHING RETURNING event_id`,
    { replacements: { channel, eventId: eventId.slice(0, 512), tenantId: tenantId ?? null }, type: QueryTypes.SELECT },
  );
  return rows.length === 1;
}

/** Forget ids older than the retention window; returns how many were removed. */
export async function pruneProcessedEvents(olderThanDays = RETAIN_DAYS): Promise<number> {
  const rows = await db().query<{ n: number }>(
    `WITH gone AS (DELETE FROM channels_processed_event WHERE created_at < NOW() - make_interval(days => :days) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    { replacements: { days: olderThanDays }, type: QueryTypes.SELECT },
  );
  return rows[0]?.n ?? 0;
}
