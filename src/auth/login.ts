// Log-in by email + password (+ tenant slug when the email belongs to several tenants). Failures are
// rate-limited per account and per IP and audited; unknown emails cost the same time as known ones.
import { recordAudit } from '../analytics/audit.js';
import { createLimiter, isBlocked } from '../cache/rate-limit.js';
import { config } from '../config.js';
import { Tenant, User } from '../db/models/index.js';
import { AppError, tooMany, unauthorized } from '../errors.js';
import { dummyVerify, verifyPassword } from './password.js';
import { createSession } from './sessions.js';

let limiters: { account: ReturnType<typeof createLimiter>; ip: ReturnType<typeof createLimiter> } | undefined;
function getLimiters() {
  const c = config();
  limiters ??= {
    account: createLimiter('login:account', c.LOGIN_MAX_FAILURES, c.LOGIN_WINDOW_SECONDS),
    ip: createLimiter('login:ip', c.LOGIN_MAX_FAILURES * 5, c.LOGIN_WINDOW_SECONDS),
  };
  return limiters;
}
/** Tests and config reloads make new limiters. */
export const resetLoginLimiters = () => (limiters = undefined);

const invalid = () => unauthorized('invalid_credentials', 'The email or password is incorrect.');

export async function login(
  input: { email: string; password: string; tenantSlug?: string },
  meta: { ip?: string; userAgent?: string },
) {
  const email = input.email.trim().toLowerCase();
  const { account, ip } = getLimiters();
  // No address only happens for in-process calls (tests); those are limited per account alone.
  const ipKey = meta.ip;
  const wait = Math.max(await isBlocked(account, email), ipKey ? await isBlocked(ip, ipKey) : 0);
  if (wait) throw tooMany('too_many_login_attempts', `Too many failed log-ins. Try again in ${wait} seconds.`, wait);

  const candidates = await User.findAll({
    where: { email },
    include: input.tenantSlug ? [{ model: Tenant, where: { slug: input.tenantSlug } }] : [Tenant],
  });
  const matches: User[] = [];
  for (const u of candidates) if (u.isActive !== false && (await verifyPassword(u.passwordHash, input.password))) matches.push(u);
  if (candidates.length === 0) await dummyVerify(input.password);

  if (matches.length === 0) {
    await Promise.all([account.penalty(email, 1), ipKey ? ip.penalty(ipKey, 1) : undefined]);
    for (const u of candidates)
      await recordAudit({ tenantId: u.tenantId, userId: u.id, action: 'auth.login_failed', resourceType: 'user', resourceId: u.id, ip: meta.ip, userAgent: meta.userAgent });
    throw invalid();
  }
  if (matches.length > 1)
    throw new AppError('tenant_required', 'This email belongs to several teams: say which one with tenantSlug.', 409, {
      details: { tenants: matches.map((u) => (u as unknown as { Tenant: Tenant }).Tenant.slug) },
    });
  const user = matches[0]!;
  const tenant = (user as unknown as { Tenant: Tenant }).Tenant;
  if (tenant.status === 'suspended' || tenant.status === 'cancelled')
    throw new AppError('tenant_inactive', 'This team is suspended or cancelled.', 403);
  await account.delete(email);
  const session = await createSession(user, meta);
  await user.update({ lastLogin: new Date() });
  await recordAudit({ tenantId: user.tenantId, userId: user.id, action: 'auth.login', resourceType: 'user', resourceId: user.id, ip: meta.ip, userAgent: meta.userAgent });
  return { user, tenant, session };
}
