// The stdio entry, spawned as a real process (bin/flowspark-mcp.js) with the API key and the test
// database in its environment, driven by the v1 SDK's StdioClientTransport.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js';
import { KbDocument } from '../../src/db/models/index.js';
import { useTestApp } from '../support/harness.js';
import { rows, teamWithKey, text, type KeyedTeam } from './support.js';

useTestApp();

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/flowspark-mcp.js');
// The child loads the test-only tools (slow, progress-reporting) before the server starts.
const PRELOAD = ['--import', 'tsx', '--import', path.join(ROOT, 'tests/mcp/test-tools.ts')];

const childEnv = (extra: Record<string, string | undefined>) => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, LOG_LEVEL: 'warn', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'flowspark-stdio-')), ...extra }))
    if (v !== undefined) env[k] = v;
  return env;
};

async function stdioClient(key: string) {
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...PRELOAD, BIN],
    cwd: ROOT,
    env: childEnv({ FLOWSPARK_API_KEY: key, DATABASE_URL: process.env.DATABASE_URL }),
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d) => stderr.push(String(d)));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  // Every message as it arrived from the server, in order (what the server sent, whatever the client makes of it).
  const wire: { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> }[] = [];
  const deliver = transport.onmessage!;
  transport.onmessage = (message) => {
    wire.push(message as (typeof wire)[number]);
    deliver(message);
  };
  return { client, stderr, wire };
}

/** Run the binary to completion (for start-up failures). */
function runToExit(env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

// Each test spawns a process that compiles TypeScript and opens the database: allow for a busy machine.
describe('MCP over stdio', { timeout: 120_000 }, () => {
  let team: KeyedTeam;

  it('serves tools, resources and prompts for the key in the environment, metered like HTTP', async () => {
    team = await teamWithKey(['read', 'write']);
    const doc = await KbDocument.create({
      tenantId: team.tenantId,
      uploadedById: team.userId,
      title: 'Handbook',
      fileName: 'handbook.md',
      fileUrl: `${team.tenantId}/kb/handbook.md`,
      fileType: 'markdown',
      status: 'indexed',
      extractedText: 'Be kind.',
    });
    const { client, stderr, wire } = await stdioClient(team.key);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['remember_preference', 'list_preferences', 'test_slow_count']));

      const saved = await client.callTool({ name: 'remember_preference', arguments: { key: 'language', value: 'French' } });
      expect(saved.structuredContent).toMatchObject({ key: 'language', value: 'French' });
      const listed = await client.callTool({ name: 'list_preferences', arguments: {} });
      expect(listed.structuredContent).toEqual({ preferences: [{ key: 'language', value: 'French' }] });

      const read = await client.readResource({ uri: `flowspark://kb/${doc.id}` });
      expect(read.contents[0]).toMatchObject({ mimeType: 'text/plain', text: 'Be kind.' });
      const prompt = await client.getPrompt({ name: 'ask_knowledge_base', arguments: { question: 'How should I behave?' } });
      expect((prompt.messages[0]!.content as { text: string }).text).toContain('How should I behave?');

      const seen: number[] = [];
      const counted = await client.callTool({ name: 'test_slow_count', arguments: { runId: 'stdio-progress', steps: 3, stepMs: 5 } }, undefined, {
        onprogress: (p) => seen.push(p.progress),
      });
      expect(counted.structuredContent).toEqual({ counted: 3 });
      // On the wire every progress notification comes, in order, before the result.
      const resultAt = wire.findIndex((m) => (m.result?.structuredContent as { counted?: number } | undefined)?.counted === 3);
      const token = wire[resultAt]!.id;
      const progress = wire.flatMap((m, i) => (m.method === 'notifications/progress' && m.params?.progressToken === token ? [{ i, progress: m.params!.progress }] : []));
      expect(progress.map((p) => p.progress)).toEqual([1, 2, 3]);
      expect(progress.every((p) => p.i < resultAt)).toBe(true);
      // The v1 client runs progress callbacks a microtask late but forgets the token as soon as the result
      // arrives, so a last notification read in the same chunk as the result can miss its callback.
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen).toEqual([1, 2, 3].slice(0, seen.length));

      // Cancellation: the server aborts the call. Uncancelled it would finish within 600 ms and be
      // metered; we wait longer than that and find no usage row for it.
      const ac = new AbortController();
      const slow = client.callTool({ name: 'test_slow_count', arguments: { runId: 'stdio-cancel', steps: 30, stepMs: 20 } }, undefined, {
        signal: ac.signal,
        onprogress: (p) => {
          if (p.progress === 2) ac.abort('stop');
        },
      });
      await expect(slow).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 1000));
      expect((await client.callTool({ name: 'list_preferences', arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
    expect(stderr.join('')).not.toMatch(/"level":(50|60)/);

    const usage = await rows(`SELECT metadata FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'mcp_tool_call' ORDER BY created_at`, { t: team.tenantId });
    expect(usage.map((u) => u.metadata.tool)).toEqual(['remember_preference', 'list_preferences', 'test_slow_count', 'list_preferences']);
    expect(usage.every((u) => u.metadata.transport === 'stdio' && u.metadata.apiKeyId === team.keyId)).toBe(true);
    const audit = await rows(`SELECT details FROM audit_log WHERE tenant_id = :t AND action = 'mcp.tool_called'`, { t: team.tenantId });
    expect(audit).toHaveLength(4);
  });

  it('a read-only key lists read-only tools; a key revoked mid-session gets invalid_token', async () => {
    const owner = await teamWithKey();
    const { key, apiKey } = await createApiKey(owner.auth, { name: 'ro', scopes: ['read'] });
    const { client } = await stdioClient(key);
    try {
      const tools = (await client.listTools()).tools;
      expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
      expect((await client.callTool({ name: 'list_preferences', arguments: {} })).isError).toBeFalsy();
      await revokeApiKey(owner.auth, apiKey.id);
      const after = await client.callTool({ name: 'list_preferences', arguments: {} });
      expect(after.isError).toBe(true);
      expect(text(after)).toMatch(/^invalid_token: /);
    } finally {
      await client.close();
    }
  });

  it('refuses to start without a key, printing why on stderr and nothing on stdout', async () => {
    const noKey = await runToExit(childEnv({ FLOWSPARK_API_KEY: undefined, DATABASE_URL: process.env.DATABASE_URL }));
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('FLOWSPARK_API_KEY');
    expect(noKey.stdout).toBe('');
  });

  it('refuses to start with an invalid key', async () => {
    const badKey = await runToExit(childEnv({ FLOWSPARK_API_KEY: 'fsk_nope', DATABASE_URL: process.env.DATABASE_URL }));
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/invalid, expired or revoked/);
    expect(badKey.stdout).toBe('');
  });

  it('refuses to open an embedded database another process holds', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowspark-stdio-busy-'));
    fs.mkdirSync(path.join(dataDir, 'pg'));
    fs.writeFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), '-42\n');
    const busy = await runToExit(childEnv({ FLOWSPARK_API_KEY: 'fsk_whatever', DATABASE_URL: undefined, DATA_DIR: dataDir }));
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use .*Stop the server first, or set DATABASE_URL/);
  });
});
