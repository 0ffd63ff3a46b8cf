// Authentication for /mcp: every request presents its credential and is checked again. MCP clients
// send many small requests, and a full API-key lookup (key, then user with tenant) costs several
// times the typical tool's own query, so the resolved caller is remembered for CACHE_MS and each
// request then only asks the database whether the key is still unrevoked and unexpired (one query for
// all requests of the same event-loop turn): revocation and expiry take effect on the very next request. Changes to the user (deactivation, a new role) or
// the tenant (suspension) take effect within CACHE_MS. Session tokens are not cached.
import { API_KEY_PREFIX } from '../auth/api-keys.js';
import { authenticateToken } from '../auth/authenticate.js';
import type { AuthContext } from '../auth/context.js';
import { hashToken } from '../auth/tokens.js';
import { db } from '../db/index.js';
import { QueryTypes } from 'sequelize';

const CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;

const cache = new Map<string, { auth: AuthContext; at: number }>();

// Still-valid checks of requests that arrive in the same event-loop turn go to the database as one
// query (each request's check is sent after the request arrived, so none is answered by an older one).
let batch: { ids: Set<string>; valid: Promise<Set<string>> } | undefined;

function keyStillValid(apiKeyId: string): Promise<boolean> {
  if (!batch) {
    const ids = new Set<string>();
    const valid = new Promise<Set<string>>((resolve, reject) =>
      setImmediate(() => {
        batch = undefined;
        db()
          .query<{ id: string }>(
            `SELECT id FROM auth_api_key WHERE id IN (:ids) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > NOW())`,
            { replacements: { ids: [...ids] }, type: QueryTypes.SELECT },
          )
          .then((rows) => resolve(new Set(rows.map((r) => r.id))), reject);
      }),
    );
    batch = { ids, valid };
  }
  batch.ids.add(apiKeyId);
  return batch.valid.then((valid) => valid.has(apiKeyId));
}

export async function authenticateMcp(token: string | undefined, meta: { ip?: string; userAgent?: string }): Promise<AuthContext | null> {
  if (!token || !token.startsWith(API_KEY_PREFIX) || token.length > 200) return authenticateToken(token, meta);
  const id = hashToken(token);
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < CACHE_MS) {
    if (await keyStillValid(hit.auth.apiKeyId!)) return { ...hit.auth, ip: meta.ip, userAgent: meta.userAgent };
    cache.delete(id);
    return null;
  }
  const auth = await authenticateToken(token, meta);
  cache.delete(id);
  if (auth?.apiKeyId) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(id, { auth, at: Date.now() });
  }
  return auth;
}

/** Forget every cached caller (tests). */
export function clearMcpAuthCache(): void {
  cache.clear();
}
