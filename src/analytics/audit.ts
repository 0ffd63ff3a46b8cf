// Audit trail: one row per state-changing action, with who, what, and from where.
import type { Transaction } from 'sequelize';
import type { AuthContext } from '../auth/context.js';
import { AuditLog } from '../db/models/index.js';

export interface AuditEntry {
  tenantId: string;
  userId?: string | null;
  action: string;
  resourceType?: string;
  resourceId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
  userAgent?: string | null;
}

export async function recordAudit(entry: AuditEntry, transaction?: Transaction): Promise<void> {
  await AuditLog.create(
    {
      tenantId: entry.tenantId,
      userId: entry.userId ?? null,
      action: entry.action,
      resourceType: entry.resourceType ?? null,
      resourceId: entry.resourceId ?? null,
      details: entry.details ?? {},
      ipAddress: normaliseIp(entry.ip),
      userAgent: entry.userAgent?.slice(0, 1000) ?? null,
    },
    { transaction },
  );
}

/** Audit an action done by an authenticated caller (API key id goes into details). */
export function auditAs(
  auth: AuthContext,
  action: string,
  resource: { type?: string; id?: string | null; details?: Record<string, unknown> } = {},
  transaction?: Transaction,
) {
  return recordAudit(
    {
      tenantId: auth.tenantId,
      userId: auth.userId,
      action,
      resourceType: resource.type,
      resourceId: resource.id,
      details: { ...(resource.details ?? {}), ...(auth.apiKeyId ? { apiKeyId: auth.apiKeyId } : {}) },
      ip: auth.ip,
      userAgent: auth.userAgent,
    },
    transaction,
  );
}

/** Addresses as stored in INET columns: IPv4-mapped IPv6 unwrapped, anything that is not an address dropped. */
export function normaliseIp(ip?: string | null): string | null {
  if (!ip) return null;
  const v = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^[0-9a-fA-F:.]+$/.test(v) ? v : null;
}
