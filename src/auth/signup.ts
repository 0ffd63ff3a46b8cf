// Sign-up: a new tenant (unique slug from its name), its owner, the free subscription with its
// included tokens, and a session — one transaction, so a failure leaves nothing behind.
import { UniqueConstraintError } from 'sequelize';
import { recordAudit } from '../analytics/audit.js';
import { startFreeSubscription } from '../billing/subscriptions.js';
import { db } from '../db/index.js';
import { Tenant, User } from '../db/models/index.js';
import { hashPassword, assertStrongPassword } from './password.js';
import { createSession } from './sessions.js';
import { randomToken } from './tokens.js';

export interface SignupInput {
  tenantName: string;
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s || 'team';
}

export async function signup(input: SignupInput, meta: { ip?: string; userAgent?: string }) {
  const email = input.email.trim().toLowerCase();
  assertStrongPassword(input.password, email);
  const passwordHash = await hashPassword(input.password);
  const base = slugify(input.tenantName);
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${randomToken(5).slice(0, 6)}`;
    try {
      return await db().transaction(async (transaction) => {
        const tenant = await Tenant.create({ name: input.tenantName.trim(), slug, status: 'trial' }, { transaction });
        const user = await User.create(
          { tenantId: tenant.id, email, passwordHash, role: 'owner', firstName: input.firstName ?? null, lastName: input.lastName ?? null, lastLogin: new Date() },
          { transaction },
        );
        await startFreeSubscription(tenant, transaction);
        const session = await createSession(user, meta, transaction);
        await recordAudit(
          { tenantId: tenant.id, userId: user.id, action: 'tenant.signed_up', resourceType: 'tenant', resourceId: tenant.id, details: { slug, email }, ip: meta.ip, userAgent: meta.userAgent },
          transaction,
        );
        return { tenant, user, session };
      });
    } catch (e) {
      if (e instanceof UniqueConstraintError && attempt < 5) continue;
      throw e;
    }
  }
}
