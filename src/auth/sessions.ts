// Sessions after Lucia's guide: createSession stores SHA-256(token) with a 30-day expiry;
// validateSessionToken slides the expiry forward when less than half of it is left; invalidating
// deletes the row. Expired rows are deleted when met.
import { Op, type Transaction } from 'sequelize';
import { normaliseIp } from '../analytics/audit.js';
import { config } from '../config.js';
import { Session } from '../db/models/index.js';
import { sql } from '../db/sql.js';
import type { Role } from './roles.js';
import { hashToken, randomToken } from './tokens.js';

const DAY = 24 * 60 * 60 * 1000;

export async function createSession(
  user: { id: string; tenantId: string },
  meta: { ip?: string; userAgent?: string },
  transaction?: Transaction,
): Promise<{ token: string; expiresAt: Date; id: string }> {
  const token = randomToken();
  const id = hashToken(token);
  const expiresAt = new Date(Date.now() + config().SESSION_TTL_DAYS * DAY);
  await Session.create(
    { id, userId: user.id, tenantId: user.tenantId, expiresAt, ipAddress: normaliseIp(meta.ip), userAgent: meta.userAgent?.slice(0, 1000) ?? null },
    { transaction },
  );
  return { token, expiresAt, id };
}

export interface ValidSession {
  session: { id: string; userId: string; tenantId: string; expiresAt: Date };
  user: { id: string; tenantId: string; email: string; role: Role; isActive: boolean };
  tenant: { id: string; status: string };
}

/**
 * One round trip for session, user and tenant (every authenticated request pays it). An expired row is
 * deleted when met; the expiry slides forward when less than half of it is left.
 */
export async function validateSessionToken(token: string): Promise<ValidSession | null> {
  const id = hashToken(token);
  const [row] = await sql<{
    expires_at: Date;
    user_id: string;
    tenant_id: string;
    email: string;
    role: Role;
    is_active: boolean | null;
    tenant_status: string;
  }>(
    `SELECT s.expires_at, u.id AS user_id, u.tenant_id, u.email, u.role, u.is_active, t.status AS tenant_status
       FROM auth_session s
       JOIN core_user u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
       JOIN core_tenant t ON t.id = u.tenant_id
      WHERE s.id = $1`,
    [id],
  );
  if (!row) return null;
  const now = Date.now();
  if (row.expires_at.getTime() <= now) {
    await sql('DELETE FROM auth_session WHERE id = $1', [id]);
    return null;
  }
  if (row.is_active === false) return null;
  if (row.tenant_status === 'suspended' || row.tenant_status === 'cancelled') return null;
  let expiresAt = row.expires_at;
  const ttl = config().SESSION_TTL_DAYS * DAY;
  if (expiresAt.getTime() - now < ttl / 2) {
    expiresAt = new Date(now + ttl);
    await sql(`UPDATE auth_session SET expires_at = $2::timestamptz AT TIME ZONE 'UTC' WHERE id = $1`, [id, expiresAt.toISOString()]);
  }
  return {
    session: { id, userId: row.user_id, tenantId: row.tenant_id, expiresAt },
    user: { id: row.user_id, tenantId: row.tenant_id, email: row.email, role: row.role, isActive: true },
    tenant: { id: row.tenant_id, status: row.tenant_status },
  };
}

export async function invalidateSession(sessionId: string): Promise<void> {
  await Session.destroy({ where: { id: sessionId } });
}

export async function invalidateUserSessions(userId: string, transaction?: Transaction): Promise<void> {
  await Session.destroy({ where: { userId }, transaction });
}

export async function deleteExpiredSessions(): Promise<number> {
  return Session.destroy({ where: { expiresAt: { [Op.lte]: new Date() } } });
}
