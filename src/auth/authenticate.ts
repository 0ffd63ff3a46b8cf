// Turn a presented credential (session token or API key) into an AuthContext. Shared by the HTTP
// middleware, the Socket.IO handshake and the MCP endpoint.
import { authenticateApiKey, API_KEY_PREFIX } from './api-keys.js';
import type { ApiKeyScope, AuthContext } from './context.js';
import { validateSessionToken } from './sessions.js';

/** Other credential kinds, told apart by their prefix (the widget's short-lived tokens); set by their feature. */
export type TokenAuthenticator = (token: string, meta: { ip?: string; userAgent?: string }) => Promise<AuthContext | null>;
const authenticators: [prefix: string, authenticate: TokenAuthenticator][] = [];
export const addTokenAuthenticator = (prefix: string, authenticate: TokenAuthenticator) => void authenticators.push([prefix, authenticate]);

export async function authenticateToken(
  token: string | undefined | null,
  meta: { ip?: string; userAgent?: string } = {},
): Promise<AuthContext | null> {
  if (!token || token.length > 200) return null;
  for (const [prefix, authenticate] of authenticators) if (token.startsWith(prefix)) return authenticate(token, meta);
  if (token.startsWith(API_KEY_PREFIX)) {
    const found = await authenticateApiKey(token);
    if (!found) return null;
    return {
      tenantId: found.tenant.id,
      userId: found.user.id,
      role: found.user.role,
      email: found.user.email,
      apiKeyId: found.apiKey.id,
      scopes: found.apiKey.scopes as ApiKeyScope[],
      ...meta,
    };
  }
  const found = await validateSessionToken(token);
  if (!found) return null;
  return { tenantId: found.tenant.id, userId: found.user.id, role: found.user.role, email: found.user.email, sessionId: found.session.id, ...meta };
}

export function bearerToken(header: string | undefined | null): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
