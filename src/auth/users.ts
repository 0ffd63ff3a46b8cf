// User management inside one tenant: owners/admins create, update and deactivate users within the
// plan's max_users; every user edits their own profile and password.
import { Op, type Transaction } from 'sequelize';
import { auditAs } from '../analytics/audit.js';
import { db } from '../db/index.js';
import { Tenant, User } from '../db/models/index.js';
import { AppError, conflict, forbidden, notFound, unauthorized, unprocessable } from '../errors.js';
import type { AuthContext } from './context.js';
import { assertStrongPassword, hashPassword, verifyPassword } from './password.js';
import { authorize, policies } from './policies.js';
import type { Role } from './roles.js';
import { invalidateUserSessions } from './sessions.js';
import { randomToken } from './tokens.js';

export const presentUser = (u: User) => ({
  id: u.id,
  tenantId: u.tenantId,
  email: u.email,
  role: u.role,
  isActive: u.isActive !== false,
  emailVerified: !!u.emailVerified,
  firstName: u.firstName,
  lastName: u.lastName,
  avatarUrl: u.avatarUrl,
  phone: u.phone,
  department: u.department,
  timezone: u.timezone,
  language: u.language,
  lastLogin: u.lastLogin,
  createdAt: u.createdAt,
});

export const presentTenant = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  tier: t.tier,
  status: t.status,
  maxUsers: t.maxUsers,
  maxStorageGb: t.maxStorageGb,
  logoUrl: t.logoUrl,
  primaryColor: t.primaryColor,
});

export async function assertUserCapacity(tenantId: string, transaction: Transaction) {
  const tenant = await Tenant.findByPk(tenantId, { transaction, lock: transaction.LOCK.UPDATE });
  if (!tenant) throw notFound('Team');
  const active = await User.count({ where: { tenantId, isActive: { [Op.not]: false } }, transaction });
  if (tenant.maxUsers != null && active >= tenant.maxUsers)
    throw new AppError('tenant_user_limit', `Your plan allows ${tenant.maxUsers} active users. Upgrade the plan or deactivate a user first.`, 409);
}

export interface CreateUserInput {
  email: string;
  password?: string;
  role: Role;
  firstName?: string;
  lastName?: string;
  department?: string;
}

export async function createUser(auth: AuthContext, input: CreateUserInput) {
  authorize(policies.manageUsers(auth), 'Only owners and admins can add users.');
  authorize(policies.grantRole(auth, input.role), 'Only an owner can add owners or admins.');
  const email = input.email.trim().toLowerCase();
  const password = input.password ?? randomToken(24);
  if (input.password) assertStrongPassword(password, email);
  const passwordHash = await hashPassword(password);
  return db().transaction(async (transaction) => {
    await assertUserCapacity(auth.tenantId, transaction);
    const exists = await User.findOne({ where: { tenantId: auth.tenantId, email }, transaction });
    if (exists) throw conflict('email_taken', 'A user with this email already exists in your team.');
    const user = await User.create(
      { tenantId: auth.tenantId, email, passwordHash, role: input.role, firstName: input.firstName ?? null, lastName: input.lastName ?? null, department: input.department ?? null },
      { transaction },
    );
    await auditAs(auth, 'user.created', { type: 'user', id: user.id, details: { email, role: input.role } }, transaction);
    return user;
  });
}

export async function listUsers(auth: AuthContext, opts: { limit: number; offset: number }) {
  const { rows, count } = await User.findAndCountAll({ where: { tenantId: auth.tenantId }, order: [['createdAt', 'ASC']], limit: opts.limit, offset: opts.offset });
  return { users: rows, total: count };
}

export async function getUser(auth: AuthContext, id: string) {
  const user = await User.findOne({ where: { id, tenantId: auth.tenantId } });
  if (!user) throw notFound('User');
  return user;
}

export interface UpdateUserInput {
  role?: Role;
  isActive?: boolean;
  firstName?: string | null;
  lastName?: string | null;
  department?: string | null;
}

export async function updateUser(auth: AuthContext, id: string, input: UpdateUserInput) {
  authorize(policies.manageUsers(auth), 'Only owners and admins can change users.');
  return db().transaction(async (transaction) => {
    const user = await User.findOne({ where: { id, tenantId: auth.tenantId }, transaction, lock: transaction.LOCK.UPDATE });
    if (!user) throw notFound('User');
    if ((user.role === 'owner' || user.role === 'admin') && auth.role !== 'owner' && user.id !== auth.userId)
      throw forbidden('forbidden', 'Only an owner can change an owner or admin.');
    if (input.role && input.role !== user.role) authorize(policies.grantRole(auth, input.role), 'Only an owner can grant the owner or admin role.');
    const losingOwner = user.role === 'owner' && ((input.role && input.role !== 'owner') || input.isActive === false);
    if (losingOwner) {
      const owners = await User.count({ where: { tenantId: auth.tenantId, role: 'owner', isActive: { [Op.not]: false } }, transaction });
      if (owners <= 1) throw conflict('last_owner', 'A team needs at least one active owner.');
    }
    if (input.isActive === true && user.isActive === false) await assertUserCapacity(auth.tenantId, transaction);
    const before = { role: user.role, isActive: user.isActive };
    await user.update(input, { transaction });
    if (input.isActive === false) await invalidateUserSessions(user.id, transaction);
    await auditAs(
      auth,
      input.isActive === false ? 'user.deactivated' : 'user.updated',
      { type: 'user', id: user.id, details: { before, changes: input } },
      transaction,
    );
    return user;
  });
}

export interface ProfileInput {
  firstName?: string | null;
  lastName?: string | null;
  avatarUrl?: string | null;
  phone?: string | null;
  department?: string | null;
  timezone?: string;
  language?: string;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export async function updateProfile(auth: AuthContext, input: ProfileInput) {
  if (input.timezone && !isTimeZone(input.timezone)) throw unprocessable('invalid_timezone', `"${input.timezone}" is not a known time zone (use an IANA name such as Europe/Paris).`);
  return db().transaction(async (transaction) => {
    const user = await User.findOne({ where: { id: auth.userId, tenantId: auth.tenantId }, transaction, lock: transaction.LOCK.UPDATE });
    if (!user) throw notFound('User');
    await user.update(input, { transaction });
    await auditAs(auth, 'user.profile_updated', { type: 'user', id: user.id, details: { fields: Object.keys(input) } }, transaction);
    return user;
  });
}

export async function changePassword(auth: AuthContext, input: { currentPassword: string; newPassword: string }) {
  const user = await User.findOne({ where: { id: auth.userId, tenantId: auth.tenantId } });
  if (!user) throw notFound('User');
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) throw unauthorized('invalid_credentials', 'The current password is incorrect.');
  assertStrongPassword(input.newPassword, user.email);
  const passwordHash = await hashPassword(input.newPassword);
  await db().transaction(async (transaction) => {
    await user.update({ passwordHash }, { transaction });
    await auditAs(auth, 'user.password_changed', { type: 'user', id: user.id }, transaction);
  });
}
