// Per-user preferences the agent remembers (agents_preference), injected into the system prompt.
import { auditAs } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { db } from '../db/index.js';
import { Preference } from '../db/models/index.js';
import { notFound } from '../errors.js';

type Caller = Pick<AuthContext, 'tenantId' | 'userId'> & Partial<Omit<AuthContext, 'channel'>>;

export const normaliseKey = (key: string) =>
  key.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 100);

export async function listPreferences(caller: Caller): Promise<{ key: string; value: unknown; updatedAt: Date }[]> {
  const rows = await Preference.findAll({ where: { tenantId: caller.tenantId, userId: caller.userId }, order: [['key', 'ASC']] });
  return rows.map((r) => ({ key: r.key, value: r.value, updatedAt: r.updatedAt }));
}

export async function setPreference(caller: Caller, key: string, value: unknown) {
  const k = normaliseKey(key);
  return db().transaction(async (transaction) => {
    const [row] = await Preference.upsert(
      { tenantId: caller.tenantId, userId: caller.userId, key: k, value, updatedAt: new Date() },
      { transaction, conflictFields: ['user_id', 'key'] as never },
    );
    if (caller.role) await auditAs(caller as AuthContext, 'preference.set', { type: 'preference', id: row.id, details: { key: k } }, transaction);
    return { key: k, value: row.value, updatedAt: row.updatedAt };
  });
}

export async function deletePreference(caller: Caller, key: string) {
  const k = normaliseKey(key);
  return db().transaction(async (transaction) => {
    const row = await Preference.findOne({ where: { tenantId: caller.tenantId, userId: caller.userId, key: k }, transaction });
    if (!row) throw notFound(`Preference "${k}"`);
    await row.destroy({ transaction });
    if (caller.role) await auditAs(caller as AuthContext, 'preference.deleted', { type: 'preference', id: row.id, details: { key: k } }, transaction);
    return { key: k, deleted: true };
  });
}
