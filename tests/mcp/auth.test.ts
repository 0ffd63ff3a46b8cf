// The /mcp endpoint's edges over real HTTP: the 401 challenge and the RFC 9728 metadata it points at,
// keys revoked or expired mid-session, DNS-rebinding protection (Host/Origin), oversized and malformed
// requests. Nothing stored changes in any of these cases.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/auth/api-keys.js';
import { ApiKey } from '../../src/db/models/index.js';
import { flushMetering } from '../../src/mcp/metering.js';
import { connect, GENERATIONS, keyFor, rows, teamWithKey, useMcpServer } from './support.js';

const server = useMcpServer({ ALLOWED_HOSTS: 'mcp.example.test', ALLOWED_ORIGINS: 'https://app.example.test', MAX_BODY_BYTES: '65536' });

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** A raw HTTP request (node:http lets the test set Host and Origin freely). */
function raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const url = new URL(path, server.url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method, headers: { accept: 'application/json, text/event-stream', ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const post = (key: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  raw('POST', '/mcp', {
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const usageCount = async (tenantId: string) =>
  (await flushMetering(), Number((await rows(`SELECT count(*)::int AS n FROM analytics_usage WHERE tenant_id = :tenantId`, { tenantId }))[0]!.n));

describe('MCP auth: challenge and protected-resource metadata', () => {
  it('answers 401 with a Bearer challenge naming the metadata document', async () => {
    const res = await post(undefined, INIT);
    expect(res.status).toBe(401);
    const metadataUrl = `${server.url}/.well-known/oauth-protected-resource/mcp`;
    expect(res.headers['www-authenticate']).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    expect(JSON.parse(res.body).error.code).toBe('unauthenticated');

    const bad = await post('fsk_not_a_real_key', INIT);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain(`resource_metadata="${metadataUrl}"`);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(JSON.parse(bad.body).error.code).toBe('invalid_token');

    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const doc = await raw('GET', path);
      expect(doc.status).toBe(200);
      expect(JSON.parse(doc.body)).toEqual({
        resource: `${server.url}/mcp`,
        resource_name: 'FlowSpark MCP server',
        bearer_methods_supported: ['header'],
        scopes_supported: ['read', 'write', 'chat', 'admin'],
      });
    }
  });

  for (const gen of GENERATIONS)
    it(`re-authenticates every request: a key revoked or expired mid-session stops working (${gen})`, async () => {
      const team = await teamWithKey();
      const client = await connect(gen, server.mcpUrl, team.key);
      expect((await client.callTool('list_preferences', {})).isError).toBeFalsy();
      await revokeApiKey(team.auth, team.keyId);
      await expect(client.callTool('remember_preference', { key: 'tone', value: 'x' })).rejects.toThrow(/invalid_token/);
      await client.close().catch(() => undefined);

      const expiring = await keyFor(team, ['read', 'write']);
      const second = await connect(gen, server.mcpUrl, expiring.key);
      expect((await second.callTool('list_preferences', {})).isError).toBeFalsy();
      await ApiKey.update({ expiresAt: new Date(Date.now() - 60_000) }, { where: { id: expiring.apiKey.id } });
      await expect(second.callTool('remember_preference', { key: 'tone', value: 'y' })).rejects.toThrow(/invalid_token/);
      await second.close().catch(() => undefined);

      expect(await rows(`SELECT key FROM agents_preference WHERE tenant_id = :t`, { t: team.tenantId })).toEqual([]);
      expect(await usageCount(team.tenantId)).toBe(2); // the two list_preferences calls made while valid
    });
});

describe('MCP auth under concurrency', () => {
  it('checks each of many simultaneous requests: a revoked key fails, another key of the team passes', async () => {
    const team = await teamWithKey(['read']);
    const other = await keyFor(team, ['read']);
    const call = (key: string, id: number) =>
      post(key, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list_preferences', arguments: {} } }, { 'mcp-protocol-version': '2025-11-25' });
    // Both keys are now known (and their lookups cached); then one is revoked.
    expect((await call(team.key, 1)).status).toBe(200);
    expect((await call(other.key, 2)).status).toBe(200);
    await revokeApiKey(team.auth, team.keyId);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? other.key : team.key, 10 + i)));
    expect(results.filter((_, i) => i % 2 === 0).map((r) => r.status)).toEqual(Array(10).fill(401));
    expect(results.filter((_, i) => i % 2 === 1).map((r) => r.status)).toEqual(Array(10).fill(200));
  });
});

describe('MCP DNS-rebinding protection', () => {
  it('refuses a Host that is not this server (403), before authentication', async () => {
    const team = await teamWithKey();
    const res = await post(team.key, INIT, { host: 'evil.example.com' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.message).toMatch(/host/i);
    const meta = await raw('GET', '/.well-known/oauth-protected-resource/mcp', { headers: { host: 'evil.example.com' } });
    expect(meta.status).toBe(403);
  });

  it('accepts the configured public host, and its own address', async () => {
    const team = await teamWithKey();
    const port = new URL(server.url).port;
    for (const host of [`mcp.example.test:${port}`, `127.0.0.1:${port}`, `localhost:${port}`]) {
      const res = await post(team.key, INIT, { host });
      expect(res.status, host).toBe(200);
    }
    // The challenge then names the host the client used.
    const anon = await post(undefined, INIT, { host: 'mcp.example.test' });
    expect(anon.headers['www-authenticate']).toBe('Bearer resource_metadata="http://mcp.example.test/.well-known/oauth-protected-resource/mcp"');
  });

  it('refuses a browser Origin that is not allowed (403) and accepts configured ones', async () => {
    const team = await teamWithKey();
    for (const origin of ['https://evil.example.com', 'null']) {
      const res = await post(team.key, INIT, { origin });
      expect(res.status, origin).toBe(403);
    }
    for (const origin of ['https://app.example.test', 'http://localhost:5173']) {
      const res = await post(team.key, INIT, { origin });
      expect(res.status, origin).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
    }
    // CORS preflight from an allowed origin is answered without credentials.
    const preflight = await raw('OPTIONS', '/mcp', {
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
  });
});

describe('MCP malformed and oversized requests', () => {
  it('answers 413 to a body over the limit, 400 to malformed JSON, 415 to a wrong media type', async () => {
    const team = await teamWithKey();
    const big = { ...INIT, params: { ...INIT.params, padding: 'x'.repeat(70_000) } };
    const tooBig = await post(team.key, big);
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(tooBig.body).error.message).toMatch(/payload_too_large/);

    const malformed = await post(team.key, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });

    const notJson = await post(team.key, 'hello', { 'content-type': 'text/plain' });
    expect(notJson.status).toBe(415);

    // Valid JSON that is not JSON-RPC is refused by the protocol layer.
    const notRpc = await post(team.key, { hello: 'world' });
    expect(notRpc.status).toBeGreaterThanOrEqual(400);
    expect(notRpc.status).toBeLessThan(500);

    expect(await usageCount(team.tenantId)).toBe(0);
  });

  it('answers tools/call for an unknown tool with a JSON-RPC error', async () => {
    const team = await teamWithKey();
    const res = await post(team.key, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, { 'mcp-protocol-version': '2025-11-25' });
    const body = res.headers['content-type']?.includes('text/event-stream') ? JSON.parse(res.body.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) : JSON.parse(res.body);
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32602 } });
    expect(body.error.message).toMatch(/no_such_tool/);
  });
});
