// Streamable HTTP at /mcp, and the OAuth protected-resource metadata (RFC 9728) that names it.
// Per request: Host/Origin check → Bearer credential (API key or session token, re-authenticated on
// every request, so a key revoked mid-session stops working on the next request) → bounded body read →
// the SDK handler, which serves 2026-07-28 requests and 2025-era requests (stateless fallback) from
// the same per-request server factory.
import {
  createMcpHandler,
  isJsonContentType,
  readRequestBody,
  type AuthInfo,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { bearerToken } from '../auth/authenticate.js';
import { API_KEY_SCOPES, type AuthContext } from '../auth/context.js';
import { config } from '../config.js';
import type { AppEnv } from '../http/env.js';
import { clientMeta } from '../http/middleware.js';
import { log } from '../log.js';
import { CancellationRegistry } from './cancellation.js';
import { rejectForeignRequest } from './origin-guard.js';
import { authenticateMcp } from './authenticate.js';
import { createMcpServer, surfaceFor, type Surface } from './server.js';
import { credentialKey } from './tools.js';

export const MCP_PATH = '/mcp';
export const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

const cancellations = new CancellationRegistry();
let handler: McpHttpHandler | undefined;

function mcpHandler(): McpHttpHandler {
  handler ??= createMcpHandler(
    ({ era, authInfo }) => {
      const { auth, surface } = (authInfo?.extra ?? {}) as { auth?: AuthContext; surface?: Surface };
      if (!auth) throw new Error('MCP request reached the server factory without an authenticated caller');
      const session = { caller: async () => auth, transport: 'http' as const, era, cancellations: era === 'legacy' ? cancellations : undefined };
      return createMcpServer(auth, session, surface);
    },
    { onerror: (err) => log.debug({ err }, 'MCP request refused') },
  );
  return handler;
}

/** Abort in-flight calls (tests and shutdown). */
export async function closeMcpHttp(): Promise<void> {
  const h = handler;
  handler = undefined;
  await h?.close();
}

/** The server's public origin: PUBLIC_URL when set, else the (already validated) request's own. */
const publicBase = (c: Context) => (config().PUBLIC_URL ? config().publicUrl : new URL(c.req.url).origin);

export function resourceMetadata(base: string) {
  return {
    resource: `${base}${MCP_PATH}`,
    resource_name: 'FlowSpark MCP server',
    // No authorization server yet: clients authenticate with a FlowSpark API key (fsk_…) as a Bearer token.
    bearer_methods_supported: ['header'],
    scopes_supported: [...API_KEY_SCOPES],
  };
}

const jsonRpcError = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

function challenge(c: Context, presented: boolean): Response {
  const metadata = `${publicBase(c)}${RESOURCE_METADATA_PATH}${MCP_PATH}`;
  const [code, message] = presented
    ? ['invalid_token', 'The API key or session token is invalid, expired or revoked.']
    : ['unauthenticated', 'Send a FlowSpark API key as "Authorization: Bearer fsk_…".'];
  const params = presented ? `, error="invalid_token", error_description="${message}"` : '';
  return new Response(JSON.stringify({ error: { code, message } }), {
    status: 401,
    headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${metadata}"${params}` },
  });
}

/** Route a 2025-era client's `notifications/cancelled` to the call it names (see cancellation.ts). */
function forwardCancellations(body: unknown, auth: AuthContext): void {
  for (const m of Array.isArray(body) ? body : [body]) {
    const msg = m as { method?: unknown; id?: unknown; params?: { requestId?: unknown; reason?: unknown } } | null;
    if (msg?.method !== 'notifications/cancelled' || msg.id !== undefined) continue;
    const requestId = msg.params?.requestId;
    if (typeof requestId === 'string' || typeof requestId === 'number')
      cancellations.cancel(credentialKey(auth), requestId, typeof msg.params?.reason === 'string' ? msg.params.reason : undefined);
  }
}

export const mcpRoutes = new Hono<AppEnv>();

for (const path of [MCP_PATH, RESOURCE_METADATA_PATH, `${RESOURCE_METADATA_PATH}/*`]) {
  mcpRoutes.use(path, async (c, next) => {
    const rejected = rejectForeignRequest(c.req.raw, config());
    if (rejected) return rejected;
    await next();
  });
}

mcpRoutes.use(
  MCP_PATH,
  cors({
    // The guard above has already refused origins that are not allowed.
    origin: (origin) => origin,
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type', 'accept', 'last-event-id', 'mcp-protocol-version', 'mcp-session-id', 'mcp-method', 'mcp-name'],
    exposeHeaders: ['www-authenticate', 'mcp-session-id', 'mcp-protocol-version'],
    maxAge: 600,
  }),
);

for (const path of [RESOURCE_METADATA_PATH, `${RESOURCE_METADATA_PATH}${MCP_PATH}`]) {
  mcpRoutes.get(path, (c) => {
    c.header('access-control-allow-origin', '*');
    c.header('cache-control', 'public, max-age=3600');
    return c.json(resourceMetadata(publicBase(c)));
  });
}

mcpRoutes.all(MCP_PATH, async (c) => {
  const token = bearerToken(c.req.header('authorization'));
  const auth = token ? await authenticateMcp(token, clientMeta(c)) : null;
  if (!auth) return challenge(c, !!token);
  const authInfo: AuthInfo = {
    token: token!,
    clientId: auth.apiKeyId ?? auth.userId,
    scopes: auth.scopes ?? [...API_KEY_SCOPES],
    extra: { auth },
  };
  const request = c.req.raw;
  if (request.method !== 'POST' || !isJsonContentType(request.headers.get('content-type'))) return mcpHandler().fetch(request, { authInfo });

  const limit = config().MAX_BODY_BYTES;
  const body = await readRequestBody(request, limit);
  if (body.tooLarge) return jsonRpcError(413, -32000, `payload_too_large: The request body is larger than ${limit} bytes.`);
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(body.text);
  } catch {
    return jsonRpcError(400, -32700, 'Parse error: the request body is not valid JSON.');
  }
  forwardCancellations(parsedBody, auth);
  authInfo.extra = { auth, surface: surfaceFor(parsedBody) };
  return mcpHandler().fetch(request, { authInfo, parsedBody });
});
