// MCP tools end to end over real HTTP, with a 2025-11-25 client (v1 SDK) and a 2026-07-28 client (v2
// SDK): what is listed for which key, calls with structured results, metering and audit like the chat
// path, isError results, progress and cancellation.
import { describe, expect, it } from 'vitest';
import { creditTokens, getBalance } from '../../src/billing/ledger.js';
import { flushMetering } from '../../src/mcp/metering.js';
import { registerTools } from '../../src/tools/index.js';
import { defineTool } from '../../src/tools/registry.js';
import { z } from 'zod';
import { connect, GENERATIONS, keyFor, rows, teamWithKey, text, useMcpServer } from './support.js';
import { slowRuns } from './test-tools.js';

const server = useMcpServer();

const usageRows = async (tenantId: string) =>
  (await flushMetering(), rows(`SELECT activity_type, tokens_used, execution_time_seconds, metadata FROM analytics_usage WHERE tenant_id = :tenantId AND activity_type = 'mcp_tool_call' ORDER BY created_at`, { tenantId }));
const auditRows = async (tenantId: string) =>
  (await flushMetering(), rows(`SELECT action, user_id, details, resource_type FROM audit_log WHERE tenant_id = :tenantId AND action = 'mcp.tool_called' ORDER BY created_at`, { tenantId }));
const prefs = (tenantId: string) => rows(`SELECT key, value FROM agents_preference WHERE tenant_id = :tenantId ORDER BY key`, { tenantId });

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
};

for (const gen of GENERATIONS) {
  describe(`MCP tools over Streamable HTTP (${gen} client)`, () => {
    it('negotiates the expected protocol revision', async () => {
      const team = await teamWithKey();
      const client = await connect(gen, server.mcpUrl, team.key);
      expect(client.protocolVersion()).toBe(gen === 'v1' ? '2025-11-25' : '2026-07-28');
      await client.close();
    });

    it('lists the registry tools the key allows, with schemas, titles and honest annotations', async () => {
      const team = await teamWithKey(['read', 'write']);
      const client = await connect(gen, server.mcpUrl, team.key);
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((t: any) => [t.name, t]));
      expect(Object.keys(byName)).toEqual(expect.arrayContaining(['remember_preference', 'list_preferences', 'forget_preference', 'test_slow_count']));
      const remember = byName.remember_preference;
      expect(remember.title).toBe('Remember a preference');
      expect(remember.inputSchema).toMatchObject({ type: 'object', required: ['key', 'value'] });
      expect(remember.outputSchema.properties.updatedAt).toEqual({ type: 'string', format: 'date-time' });
      expect(remember.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: true });
      expect(byName.list_preferences.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      // Needs approval in chat → destructive over MCP, so clients ask their user first.
      expect(byName.forget_preference.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(byName.test_spend_tokens.annotations.destructiveHint).toBe(true);
      expect(byName.test_spend_tokens._meta).toEqual({ 'flowspark/needsApproval': true });
      await client.close();

      // A read-only key sees read-only tools only, and cannot call the others.
      const readOnly = await keyFor(team, ['read']);
      const ro = await connect(gen, server.mcpUrl, readOnly.key);
      const roTools = (await ro.listTools()).tools as any[];
      expect(roTools.length).toBeGreaterThan(0);
      expect(roTools.every((t) => t.annotations.readOnlyHint === true)).toBe(true);
      expect(roTools.map((t) => t.name)).toContain('list_preferences');
      expect(roTools.map((t) => t.name)).not.toContain('remember_preference');
      await expect(ro.callTool('remember_preference', { key: 'tone', value: 'terse' })).rejects.toThrow(/remember_preference/);
      expect(await prefs(team.tenantId)).toEqual([]);
      await ro.close();
    });

    it('calls a tool with structured results, metered and audited with the API key id', async () => {
      const team = await teamWithKey();
      const client = await connect(gen, server.mcpUrl, team.key);
      const saved = await client.callTool('remember_preference', { key: 'Report Format', value: 'bullet points' });
      expect(saved.isError).toBeFalsy();
      expect(saved.structuredContent).toMatchObject({ key: 'report_format', value: 'bullet points' });
      expect(typeof saved.structuredContent.updatedAt).toBe('string');
      expect(JSON.parse(text(saved))).toEqual(saved.structuredContent);

      const listed = await client.callTool('list_preferences', {});
      expect(listed.structuredContent).toEqual({ preferences: [{ key: 'report_format', value: 'bullet points' }] });
      await client.close();

      const usage = await usageRows(team.tenantId);
      expect(usage).toHaveLength(2);
      expect(usage.map((u) => u.metadata.tool)).toEqual(['remember_preference', 'list_preferences']);
      for (const u of usage) {
        expect(u.metadata).toMatchObject({ apiKeyId: team.keyId, channel: 'mcp', transport: 'http', protocol: gen === 'v1' ? 'legacy' : 'modern' });
        expect(Number(u.tokens_used)).toBe(0);
        expect(Number(u.execution_time_seconds)).toBeGreaterThanOrEqual(0);
      }
      const audit = await auditRows(team.tenantId);
      expect(audit).toHaveLength(2);
      expect(audit.every((a) => a.user_id === team.userId && a.details.apiKeyId === team.keyId)).toBe(true);
      // The command's own audit row carries the key too, as on the chat path.
      const [set] = await rows(`SELECT details FROM audit_log WHERE tenant_id = :t AND action = 'preference.set'`, { t: team.tenantId });
      expect(set!.details).toMatchObject({ key: 'report_format', apiKeyId: team.keyId });
    });

    it('debits the ledger when a tool reports model tokens', async () => {
      const team = await teamWithKey(['read', 'write']);
      await creditTokens({ tenantId: team.tenantId, tokens: 1000, operation: 'test_grant' });
      const before = await getBalance(team.tenantId);
      const client = await connect(gen, server.mcpUrl, team.key);
      const res = await client.callTool('test_spend_tokens', { tokens: 42 });
      expect(res.structuredContent).toEqual({ answer: 'forty-two', tokensUsed: 42 });
      await client.close();
      expect(await getBalance(team.tenantId)).toBe(before - 42);
      const [tx] = await rows(`SELECT amount, operation, metadata FROM billing_token_transaction WHERE tenant_id = :t AND operation = 'mcp_tool_call'`, { t: team.tenantId });
      expect(tx).toMatchObject({ amount: -42, operation: 'mcp_tool_call' });
      expect(tx!.metadata).toMatchObject({ tool: 'test_spend_tokens', apiKeyId: team.keyId });
      const [usage] = await usageRows(team.tenantId);
      expect(Number(usage!.tokens_used)).toBe(42);
    });

    it('turns bad arguments, domain errors and bugs into isError results and stores nothing', async () => {
      const team = await teamWithKey();
      const client = await connect(gen, server.mcpUrl, team.key);

      const invalid = await client.callTool('remember_preference', { key: '', value: 42 });
      expect(invalid.isError).toBe(true);
      expect(text(invalid)).toMatch(/^invalid_arguments: Invalid arguments for remember_preference: key: .*; value: /);

      const missing = await client.callTool('forget_preference', { key: 'never_set' });
      expect(missing.isError).toBe(true);
      expect(text(missing)).toBe('not_found: Preference "never_set" was not found.');

      const bug = await client.callTool('test_explode', {});
      expect(bug.isError).toBe(true);
      expect(text(bug)).toMatch(/^internal_error: /);
      expect(text(bug)).not.toContain('secret internal detail');

      await expect(client.callTool('no_such_tool', {})).rejects.toThrow(/no_such_tool/);
      await client.close();

      expect(await usageRows(team.tenantId)).toEqual([]);
      expect(await auditRows(team.tenantId)).toEqual([]);
      expect(await prefs(team.tenantId)).toEqual([]);
    });

    it('reports progress of a long tool', async () => {
      const team = await teamWithKey(['read']);
      const client = await connect(gen, server.mcpUrl, team.key);
      const seen: { progress: number; total?: number; message?: string }[] = [];
      const res = await client.callTool('test_slow_count', { runId: `progress-${gen}-${team.tenantId}`, steps: 4, stepMs: 10 }, { onprogress: (p) => seen.push(p) });
      expect(res.structuredContent).toEqual({ counted: 4 });
      expect(seen.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
      expect(seen[0]).toMatchObject({ total: 4, message: 'step 1' });
      await client.close();
    });

    it('honours cancellation: the running tool is aborted and the call is not metered', async () => {
      const team = await teamWithKey(['read']);
      const client = await connect(gen, server.mcpUrl, team.key);
      const runId = `cancel-${gen}-${team.tenantId}`;
      const ac = new AbortController();
      const call = client.callTool('test_slow_count', { runId, steps: 200, stepMs: 20 }, { signal: ac.signal, onprogress: () => undefined });
      expect(await until(() => (slowRuns.get(runId)?.steps ?? 0) >= 2)).toBe(true);
      ac.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      expect(await until(() => slowRuns.get(runId)!.aborted)).toBe(true);
      expect(slowRuns.get(runId)!.finished).toBe(false);
      expect(slowRuns.get(runId)!.steps).toBeLessThan(200);

      // The client still works afterwards, and the cancelled call left no usage row.
      const after = await client.callTool('list_preferences', {});
      expect(after.isError).toBeFalsy();
      await client.close();
      const usage = await usageRows(team.tenantId);
      expect(usage.map((u) => u.metadata.tool)).toEqual(['list_preferences']);
    });
  });
}

describe('MCP tools: the registry is read per request', () => {
  it('a tool a feature registers after start-up is listed and callable without a restart', async () => {
    const team = await teamWithKey(['read']);
    const client = await connect('v2', server.mcpUrl, team.key);
    expect((await client.listTools()).tools.map((t: any) => t.name)).not.toContain('test_late_arrival');
    registerTools(
      defineTool({
        name: 'test_late_arrival',
        title: 'Late arrival (test)',
        description: 'Registered while the server runs.',
        inputSchema: z.object({ n: z.number() }),
        outputSchema: z.object({ doubled: z.number() }),
        minRole: 'viewer',
        readOnly: true,
        destructive: false,
        idempotent: true,
        needsApproval: false,
        intents: { patterns: [] },
        execute: async ({ n }) => ({ doubled: n * 2 }),
      }),
    );
    expect((await client.listTools()).tools.map((t: any) => t.name)).toContain('test_late_arrival');
    expect((await client.callTool('test_late_arrival', { n: 21 })).structuredContent).toEqual({ doubled: 42 });
    await client.close();
  });
});

describe('MCP tools: credentials', () => {
  it('accepts a session token too (full access for the role)', async () => {
    const team = await teamWithKey();
    const client = await connect('v2', server.mcpUrl, team.token);
    const res = await client.callTool('remember_preference', { key: 'tone', value: 'warm' });
    expect(res.isError).toBeFalsy();
    await client.close();
    const [usage] = await usageRows(team.tenantId);
    expect(usage!.metadata.apiKeyId).toBeUndefined();
  });

  it('a key with only the chat scope may use every tool its role allows', async () => {
    const team = await teamWithKey(['chat']);
    const client = await connect('v1', server.mcpUrl, team.key);
    const names = (await client.listTools()).tools.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(['remember_preference', 'list_preferences']));
    await client.close();
  });
});
