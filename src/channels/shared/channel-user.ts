// Who a chat-platform user is: the active tenant user with the email the platform vouches for (Slack's
// confirmed profile email, the Entra email / UPN of a Teams member).
import { Op } from 'sequelize';
import type { AuthContext } from '../../auth/context.js';
import { User } from '../../db/models/index.js';

/** The tenant user with this email (case-insensitive), if active: the identity a channel user acts as. */
export async function authForEmail(tenantId: string, email: string): Promise<AuthContext | null> {
  const normalised = email.trim().toLowerCase();
  if (!normalised.includes('@')) return null;
  const user = await User.findOne({ where: { tenantId, email: normalised, isActive: { [Op.not]: false } } });
  return user ? { tenantId, userId: user.id, role: user.role, email: user.email } : null;
}
