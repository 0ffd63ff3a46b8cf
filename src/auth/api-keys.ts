// API keys for bots and MCP clients: `fsk_<random>` shown once, SHA-256 stored, scoped, revocable,
// optionally expiring; last_used_at updated at most once a minute per key.
import { Op } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { ApiKey, Tenant, User } from '../db/models/index.js';
import { notFound, unprocessable } from '../errors.js';
import { type ApiKeyScope, type AuthContext } from './context.js';
import { authorize, policies } from './policies.js';
import { hashToken, randomToken } from './tokens.js';

export const API_KEY_PREFIX = 'fsk_';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  userId: string;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export const presentApiKey = (k: ApiKey): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  userId: k.userId,
  lastUsedAt: k.lastUsedAt,
  expiresAt: k.expiresAt,
  revokedAt: k.revokedAt,
  createdAt: k.createdAt,
});

export async function createApiKey(
  auth: AuthContext,
  input: { name: string; scopes: ApiKeyScope[]; userId?: string; expiresAt?: Date },
): Promise<{ key: string; apiKey: ApiKeyView }> {
  authorize(policies.manageApiKeys(auth), 'Only owners and admins can create API keys.');
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
    throw unprocessable('invalid_expiry', 'The expiry date must be in the future.');
  return db().transaction(async (transaction) => {
    const userId = input.userId ?? auth.userId;
    const user = await User.findOne({ where: { id: userId, tenantId: auth.tenantId }, transaction });
    if (!user) throw notFound('User');
    const key = API_KEY_PREFIX + randomToken(32);
    const apiKey = await ApiKey.create(
      {
        tenantId: auth.tenantId,
        userId,
        createdById: auth.userId,
        name: input.name,
        prefix: key.slice(0, 12),
        keyHash: hashToken(key),
        scopes: [...new Set(input.scopes)],
        expiresAt: input.expiresAt ?? null,
      },
      { transaction },
    );
    await auditAs(auth, 'api_key.created', { type: 'api_key', id: apiKey.id, details: { name: input.name, scopes: input.scopes, userId } }, transaction);
    return { key, apiKey: presentApiKey(apiKey) };
  });
}

export async function listApiKeys(auth: AuthContext): Promise<ApiKeyView[]> {
  authorize(policies.manageApiKeys(auth));
  const keys = await ApiKey.findAll({ where: { tenantId: auth.tenantId }, order: [['createdAt', 'DESC']] });
  return keys.map(presentApiKey);
}

export async function revokeApiKey(auth: AuthContext, id: string): Promise<ApiKeyView> {
  authorize(policies.manageApiKeys(auth));
  return db().transaction(async (transaction) => {
    const key = await ApiKey.findOne({ where: { id, tenantId: auth.tenantId }, transaction, lock: transaction.LOCK.UPDATE });
    if (!key) throw notFound('API key');
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await key.save({ transaction });
      await auditAs(auth, 'api_key.revoked', { type: 'api_key', id }, transaction);
    }
    return presentApiKey(key);
  });
}

/** Resolve a presented key to its caller, or null when unknown, revoked, expired or its user is inactive. */
export async function authenticateApiKey(key: string): Promise<{ apiKey: ApiKey; user: User; tenant: Tenant } | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const apiKey = await ApiKey.findOne({
    where: { keyHash: hashToken(key), revokedAt: null, [Op.or]: [{ expiresAt: null }, { expiresAt: { [Op.gt]: new Date() } }] },
  });
  if (!apiKey) return null;
  const user = await User.findOne({ where: { id: apiKey.userId, tenantId: apiKey.tenantId }, include: [Tenant] });
  if (!user || user.isActive === false) return null;
  const tenant = (user as unknown as { Tenant: Tenant }).Tenant;
  if (tenant.status === 'suspended' || tenant.status === 'cancelled') return null;
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) {
    await ApiKey.update({ lastUsedAt: new Date() }, { where: { id: apiKey.id } });
  }
  return { apiKey, user, tenant };
}
