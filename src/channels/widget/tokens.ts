// Widget tokens: a tenant's server trades its API key for a short-lived token for one of its users
// (identified by email), and hands it to the widget on its page. Only the SHA-256 of the token is
// stored (as for sessions); it expires after WIDGET_TOKEN_TTL_SECONDS and dies with the API key that
// minted it. The token carries the `chat` scope only: it can chat and read the user's conversations,
// never administer the team, whatever the user's role.
import { Op, UniqueConstraintError } from 'sequelize';
import { auditAs } from '../../analytics/audit.js';
import { assertUserCapacity } from '../../auth/users.js';
import type { AuthContext } from '../../auth/context.js';
import { atLeast, type Role } from '../../auth/roles.js';
import { hashPassword } from '../../auth/password.js';
import { authorize, policies } from '../../auth/policies.js';
import { hashToken, randomToken } from '../../auth/tokens.js';
import { config } from '../../config.js';
import { db } from '../../db/index.js';
import { ApiKey, Tenant, User } from '../../db/models/index.js';
import { AppError, forbidden } from '../../errors.js';
import { widgetModels } from './models.js';
import { readWidgetSettings } from './settings.js';

export const WIDGET_TOKEN_PREFIX = 'fsw_';

export interface WidgetTokenInput {
  email: string;
  firstName?: string;
  lastName?: string;
}

export interface IssuedWidgetToken {
  token: string;
  expiresAt: Date;
  user: { id: string; email: string; firstName: string | null; lastName: string | null; role: string };
  /** True when this call created the user (auto-create on first use). */
  created: boolean;
}

export async function issueWidgetToken(auth: AuthContext, input: WidgetTokenInput): Promise<IssuedWidgetToken> {
  if (!auth.apiKeyId) throw forbidden('api_key_required', 'Widget tokens are minted by your server with an API key (scope chat or write), not with a session.');
  authorize(policies.chat(auth), 'This API key needs the chat or write scope to mint widget tokens.');
  const email = input.email.trim().toLowerCase();
  const { WidgetToken } = widgetModels();
  const existing = await User.findOne({ where: { tenantId: auth.tenantId, email }, attributes: ['id'] });
  // Argon2 takes ~50 ms: hash the (never used) password of a new account before the transaction.
  const passwordHash = existing ? undefined : await hashPassword(randomToken(24));

  const run = () =>
    db().transaction(async (transaction) => {
      let user = await User.findOne({ where: { tenantId: auth.tenantId, email }, transaction });
      let created = false;
      if (!user) {
        const settings = await readWidgetSettings(auth.tenantId, transaction);
        if (!settings.autoCreateUsers || !passwordHash)
          throw new AppError('widget_user_unknown', 'No user with this email belongs to the team, and the team does not create widget users automatically.', 404);
        await assertUserCapacity(auth.tenantId, transaction);
        user = await User.create(
          { tenantId: auth.tenantId, email, passwordHash, role: 'member', firstName: input.firstName ?? null, lastName: input.lastName ?? null },
          { transaction },
        );
        created = true;
        await auditAs(auth, 'widget.user_created', { type: 'user', id: user.id, details: { email, role: 'member' } }, transaction);
      }
      if (user.isActive === false) throw forbidden('user_inactive', 'This user is deactivated in the team.');

      const token = WIDGET_TOKEN_PREFIX + randomToken(24);
      const expiresAt = new Date(Date.now() + config().WIDGET_TOKEN_TTL_SECONDS * 1000);
      await WidgetToken.destroy({ where: { tenantId: auth.tenantId, expiresAt: { [Op.lte]: new Date() } }, transaction });
      await WidgetToken.create({ id: hashToken(token), tenantId: auth.tenantId, userId: user.id, apiKeyId: auth.apiKeyId, expiresAt }, { transaction });
      await auditAs(auth, 'widget.token_issued', { type: 'user', id: user.id, details: { expiresAt: expiresAt.toISOString() } }, transaction);
      return {
        token,
        expiresAt,
        user: { id: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName, role: user.role },
        created,
      };
    });
  try {
    return await run();
  } catch (e) {
    // Two first uses of the same email at once: the other one created the user; use it.
    if (e instanceof UniqueConstraintError) return run();
    throw e;
  }
}

/** The tenant a live widget token belongs to (for the origin check), or null. */
export async function widgetTokenTenantId(token: string): Promise<string | null> {
  const row = await widgetModels().WidgetToken.findByPk(hashToken(token), { attributes: ['tenantId', 'expiresAt'] });
  return row && row.expiresAt.getTime() > Date.now() ? row.tenantId : null;
}

/** Resolve a widget token to its caller (registered with authenticateToken), or null. */
export async function authenticateWidgetToken(token: string, meta: { ip?: string; userAgent?: string }): Promise<AuthContext | null> {
  if (!token.startsWith(WIDGET_TOKEN_PREFIX)) return null;
  const { WidgetToken } = widgetModels();
  const row = await WidgetToken.findByPk(hashToken(token));
  if (!row) return null;
  if (row.expiresAt.getTime() <= Date.now()) {
    await row.destroy();
    return null;
  }
  const user = await User.findOne({ where: { id: row.userId, tenantId: row.tenantId }, include: [Tenant] });
  if (!user || user.isActive === false) return null;
  const tenant = (user as unknown as { Tenant: Tenant }).Tenant;
  if (tenant.status === 'suspended' || tenant.status === 'cancelled') return null;
  let role: Role = user.role;
  if (row.apiKeyId) {
    const key = await ApiKey.findOne({
      where: { id: row.apiKeyId, tenantId: row.tenantId, revokedAt: null, [Op.or]: [{ expiresAt: null }, { expiresAt: { [Op.gt]: new Date() } }] },
      include: [{ model: User, attributes: ['role', 'isActive'] }],
    });
    const owner = (key as unknown as { User?: User } | null)?.User;
    if (!owner || owner.isActive === false) return null;
    // A key never grants more than its own user has: a widget user's role is capped at the key owner's.
    if (!atLeast(owner.role, role)) role = owner.role;
  }
  return { tenantId: row.tenantId, userId: user.id, role, email: user.email, scopes: ['chat'], channel: 'widget', ...meta };
}
