// Per-tenant widget settings: the page origins the widget may run on, and whether a host site's unknown
// user gets a member account on first use. Admins change them; the origin checks (origin.ts) read them.
import { Op, type Transaction } from 'sequelize';
import { auditAs } from '../../analytics/audit.js';
import type { AuthContext } from '../../auth/context.js';
import { authorize, policies } from '../../auth/policies.js';
import { db } from '../../db/index.js';
import { badRequest } from '../../errors.js';
import { widgetModels } from './models.js';

export interface WidgetSettingsView {
  allowedOrigins: string[];
  autoCreateUsers: boolean;
  updatedAt: Date | null;
}

/** `https://shop.example.com` from what an admin typed; null when it is not an http(s) origin. */
export function normalizeOrigin(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return null;
  return u.origin;
}

/** The same site as the service itself (the demo page, the service's own UI). */
export function isOwnOrigin(origin: string, requestHost: string | undefined, publicUrl: string): boolean {
  try {
    const o = new URL(origin);
    return o.host === requestHost || o.origin === new URL(publicUrl).origin;
  } catch {
    return false;
  }
}

export async function readWidgetSettings(tenantId: string, transaction?: Transaction): Promise<WidgetSettingsView> {
  const row = await widgetModels().WidgetSettings.findByPk(tenantId, { transaction });
  return { allowedOrigins: row?.allowedOrigins ?? [], autoCreateUsers: row?.autoCreateUsers ?? false, updatedAt: row?.updatedAt ?? null };
}

// Widget settings decide who can mint users and where tokens work: the same trust as managing API keys.
const mayManage = (auth: AuthContext) => policies.manageApiKeys(auth);

export async function getWidgetSettings(auth: AuthContext): Promise<WidgetSettingsView> {
  authorize(mayManage(auth), 'Only owners and admins can see the widget settings.');
  return readWidgetSettings(auth.tenantId);
}

export async function updateWidgetSettings(
  auth: AuthContext,
  input: { allowedOrigins?: string[]; autoCreateUsers?: boolean },
): Promise<WidgetSettingsView> {
  authorize(mayManage(auth), 'Only owners and admins can change the widget settings.');
  let origins: string[] | undefined;
  if (input.allowedOrigins) {
    origins = [];
    for (const raw of input.allowedOrigins) {
      const o = normalizeOrigin(raw);
      if (!o) throw badRequest('invalid_origin', `"${raw.slice(0, 100)}" is not an origin: write it as https://host[:port], with no path.`, { origin: raw.slice(0, 300) });
      if (!origins.includes(o)) origins.push(o);
    }
  }
  const { WidgetSettings } = widgetModels();
  return db().transaction(async (transaction) => {
    const row = await WidgetSettings.findByPk(auth.tenantId, { transaction, lock: transaction.LOCK.UPDATE });
    const before = { allowedOrigins: row?.allowedOrigins ?? [], autoCreateUsers: row?.autoCreateUsers ?? false };
    const next = { allowedOrigins: origins ?? before.allowedOrigins, autoCreateUsers: input.autoCreateUsers ?? before.autoCreateUsers };
    const saved = row ? await row.update(next, { transaction }) : await WidgetSettings.create({ tenantId: auth.tenantId, ...next }, { transaction });
    await auditAs(auth, 'widget.settings_updated', { type: 'tenant', id: auth.tenantId, details: { before, after: next } }, transaction);
    return { allowedOrigins: saved.allowedOrigins, autoCreateUsers: saved.autoCreateUsers, updatedAt: saved.updatedAt };
  });
}

export async function isOriginAllowed(tenantId: string, origin: string): Promise<boolean> {
  const o = normalizeOrigin(origin);
  return !!o && (await readWidgetSettings(tenantId)).allowedOrigins.includes(o);
}

/** Whether any tenant lets the widget run on this origin: CORS preflights carry no credentials. */
export async function isOriginAllowedAnywhere(origin: string): Promise<boolean> {
  const o = normalizeOrigin(origin);
  if (!o) return false;
  const found = await widgetModels().WidgetSettings.findOne({ where: { allowedOrigins: { [Op.contains]: [o] } }, attributes: ['tenantId'] });
  return !!found;
}
