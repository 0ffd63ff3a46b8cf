// Who is calling: set by the auth middleware (HTTP), the socket handshake, the MCP handler or a channel
// adapter, and passed down to every command. Tenant and user come from here, never from input.
import type { Role } from './roles.js';

export const API_KEY_SCOPES = ['read', 'write', 'chat', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface AuthContext {
  tenantId: string;
  userId: string;
  role: Role;
  email: string;
  sessionId?: string;
  apiKeyId?: string;
  /** Present for API keys only; sessions carry every scope their role allows. */
  scopes?: ApiKeyScope[];
  ip?: string;
  userAgent?: string;
  /** Set by credentials that belong to one channel (widget tokens); conversations record it. */
  channel?: 'widget';
}

export const hasScope = (auth: AuthContext, scope: ApiKeyScope) =>
  !auth.scopes || auth.scopes.includes(scope) || (scope !== 'admin' && auth.scopes.includes('admin'));
