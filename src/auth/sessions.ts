// Sessions after Lucia's guide: createSession stores SHA-256(token) with a 30-day expiry;
// validateSessionToken slides the expiry forward when less than half of it is left; invalidating
// deletes the row. Expired rows are deleted when met.
import { Op, type Transaction } from 'sequelize';
import { normaliseIp } from '../analytics/audit.js';
import { config } from '../config.js';
import { Session, Tenant, User } from '../db/models/index.js';
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
  session: Session;
  user: User;
  tenant: Tenant;
}

export async function validateSessionToken(token: string): Promise<ValidSession | null> {
  const id = hashToken(token);
  const session = await Session.findByPk(id);
  if (!session) return null;
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) {
    await session.destroy();
    return null;
  }
  const user = await User.findOne({ where: { id: session.userId, tenantId: session.tenantId }, include: [Tenant] });
  if (!user || user.isActive === false) return null;
  const tenant = (user as unknown as { Tenant: Tenant }).Tenant;
  if (tenant.status === 'suspended' || tenant.status === 'cancelled') return null;
  const ttl = config().SESSION_TTL_DAYS * DAY;
  if (session.expiresAt.getTime() - now < ttl / 2) {
    session.expiresAt = new Date(now + ttl);
    await session.save();
  }
  return { session, user, tenant };
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
