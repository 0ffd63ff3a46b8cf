// One place that says who may do what. Each policy is one line; commands call `authorize`.
import { forbidden } from '../errors.js';
import { hasScope, type AuthContext } from './context.js';
import { atLeast, type Role } from './roles.js';

export const policies = {
  manageUsers: (a: AuthContext) => atLeast(a.role, 'admin') && hasScope(a, 'admin'),
  manageApiKeys: (a: AuthContext) => atLeast(a.role, 'admin') && hasScope(a, 'admin'),
  /** Only an owner may create or promote another owner or admin. */
  grantRole: (a: AuthContext, role: Role) => (role === 'owner' || role === 'admin' ? a.role === 'owner' : atLeast(a.role, 'admin')),
  manageBilling: (a: AuthContext) => atLeast(a.role, 'admin') && hasScope(a, 'admin'),
  viewBilling: (a: AuthContext) => atLeast(a.role, 'manager') && hasScope(a, 'read'),
  viewAudit: (a: AuthContext) => atLeast(a.role, 'admin') && hasScope(a, 'read'),
  viewTenantAnalytics: (a: AuthContext) => atLeast(a.role, 'manager') && hasScope(a, 'read'),
  write: (a: AuthContext) => atLeast(a.role, 'member') && hasScope(a, 'write'),
  chat: (a: AuthContext) => hasScope(a, 'chat') || hasScope(a, 'write'),
  read: (a: AuthContext) => hasScope(a, 'read') || hasScope(a, 'chat') || hasScope(a, 'write'),
} as const;

export function authorize(allowed: boolean, message?: string): void {
  if (!allowed) throw forbidden('forbidden', message ?? 'Your role does not allow this action.');
}
