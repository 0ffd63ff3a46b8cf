// The MCP layer's pure parts: allowed hosts and origins, the per-request surface, legacy cancellation
// routing, and the JSON Schemas derived from registry zod schemas.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CancellationRegistry } from '../../src/mcp/cancellation.js';
import { allowedHosts } from '../../src/mcp/origin-guard.js';
import { mcpSchemas } from '../../src/mcp/schemas.js';
import { FULL_SURFACE, surfaceFor } from '../../src/mcp/server.js';
import { testConfig } from '../support/harness.js';

describe('allowed hosts and origins', () => {
  it('defaults to loopback names plus the public host', () => {
    const a = allowedHosts(testConfig({ HOST: '0.0.0.0', PUBLIC_URL: 'https://flowspark.example.com' }));
    expect(a.hosts.sort()).toEqual(['127.0.0.1', '[::1]', 'flowspark.example.com', 'localhost']);
    expect(a.origins.sort()).toEqual(a.hosts.sort());
  });

  it('reads ALLOWED_HOSTS (ports ignored) and ALLOWED_ORIGINS (origins, names or extension schemes)', () => {
    const a = allowedHosts(
      testConfig({ HOST: '127.0.0.1', ALLOWED_HOSTS: 'mcp.example.com:8443, [::2]:3000', ALLOWED_ORIGINS: 'https://app.example.com,tools.example.com,moz-extension://*' }),
    );
    expect(a.hosts).toEqual(expect.arrayContaining(['mcp.example.com', '[::2]', '127.0.0.1']));
    expect(a.hosts).not.toContain('app.example.com');
    expect(a.origins).toEqual(expect.arrayContaining(['app.example.com', 'tools.example.com', 'moz-extension://*', 'mcp.example.com']));
  });
});

describe('per-request surface', () => {
  it('registers only what the request uses', () => {
    expect(surfaceFor({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_preferences' } })).toEqual({ tools: ['list_preferences'], resources: false, prompts: false });
    expect(surfaceFor({ method: 'tools/list' })).toEqual({ tools: 'all', resources: false, prompts: false });
    expect(surfaceFor({ method: 'resources/read' })).toEqual({ tools: [], resources: true, prompts: false });
    expect(surfaceFor({ method: 'completion/complete' })).toEqual({ tools: [], resources: true, prompts: true });
    expect(surfaceFor([{ method: 'prompts/get' }, { method: 'notifications/initialized' }])).toEqual({ tools: [], resources: false, prompts: true });
    for (const method of ['initialize', 'server/discover', 'ping', 'something/new']) expect(surfaceFor({ method })).toBe(FULL_SURFACE);
  });
});

describe('legacy cancellation routing', () => {
  it('aborts the one call a credential and id name, and nothing when ambiguous or finished', () => {
    const r = new CancellationRegistry();
    const a = r.track('key-1', 5);
    const other = r.track('key-2', 5);
    expect(r.cancel('key-1', 5, 'stop')).toBe(true);
    expect(a.signal.aborted).toBe(true);
    expect(other.signal.aborted).toBe(false);
    a.done();

    // Two clients on one key, both at id 9: ambiguous, so neither is aborted.
    const x = r.track('key-1', 9);
    const y = r.track('key-1', 9);
    expect(r.cancel('key-1', 9)).toBe(false);
    expect(x.signal.aborted || y.signal.aborted).toBe(false);
    x.done();
    expect(r.cancel('key-1', 9)).toBe(true);
    expect(y.signal.aborted).toBe(true);
    y.done();
    other.done();
    expect(r.size).toBe(0);
    expect(r.cancel('key-1', '9')).toBe(false);
  });
});

describe('JSON Schemas from registry schemas', () => {
  it('describes dates as date-time strings and accepts any value for validation (parsed later)', () => {
    const schema = z.object({ when: z.coerce.date(), n: z.number().int().min(1) });
    const { input, output } = mcpSchemas(schema);
    const std = output['~standard'] as unknown as { jsonSchema: { output(): Record<string, any> }; validate(v: unknown): unknown };
    expect(std.jsonSchema.output().properties.when).toEqual({ type: 'string', format: 'date-time' });
    expect(std.validate({ n: 'not a number' })).toEqual({ value: { n: 'not a number' } });
    expect(mcpSchemas(schema).input).toBe(input); // computed once per schema
  });
});
