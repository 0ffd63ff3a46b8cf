// MCP end-to-end helpers: a real listening server (PORT 0) on the shared test database, API keys for a
// fresh team, and clients of both SDK generations: the v1 `@modelcontextprotocol/sdk` client speaking
// 2025-11-25 and the v2 `@modelcontextprotocol/client` pinned to 2026-07-28.
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import type { ApiKeyScope } from '../../src/auth/context.js';
import { db } from '../../src/db/index.js';
import '../../src/features.js';
import { startServer, type Running } from '../../src/server.js';
import { signupTeam, testConfig, type Team } from '../support/harness.js';

export type Generation = 'v1' | 'v2';
export const GENERATIONS: Generation[] = ['v1', 'v2'];

/** Start the real server for this file; returns a getter for its handle. */
export function useMcpServer(overrides: Record<string, string> = {}) {
  let running: Running | undefined;
  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowspark-mcp-'));
    running = await startServer(testConfig({ PORT: '0', HOST: '127.0.0.1', RUN_WORKERS: 'false', DATA_DIR: dataDir, ...overrides }));
  });
  afterAll(async () => {
    await running?.close();
  });
  return {
    get url() {
      return running!.url;
    },
    get mcpUrl() {
      return new URL('/mcp', running!.url);
    },
  };
}

export interface KeyedTeam extends Team {
  key: string;
  keyId: string;
}

export async function teamWithKey(scopes: ApiKeyScope[] = ['read', 'write']): Promise<KeyedTeam> {
  const team = await signupTeam();
  const { key, apiKey } = await createApiKey(team.auth, { name: 'mcp test', scopes });
  return { ...team, key, keyId: apiKey.id };
}

export async function keyFor(team: Team, scopes: ApiKeyScope[], expiresAt?: Date) {
  return createApiKey(team.auth, { name: `mcp ${scopes.join('+')}`, scopes, expiresAt });
}

/** A connected client of the given generation; the two share the calls the tests use. */
export async function connect(gen: Generation, url: URL, key: string, headers: Record<string, string> = {}): Promise<AnyClient> {
  const requestInit = { headers: { authorization: `Bearer ${key}`, ...headers } };
  if (gen === 'v1') {
    const client = new ClientV1({ name: 'flowspark-tests-v1', version: '1.0.0' });
    await client.connect(new HttpTransportV1(url, { requestInit }));
    return wrapV1(client);
  }
  const client = new ClientV2({ name: 'flowspark-tests-v2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new HttpTransportV2(url, { requestInit }));
  return wrapV2(client);
}

type Opts = { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number; message?: string }) => void; timeout?: number };

/** The calls both generations offer, with one signature (v1's callTool takes a result schema second). */
export interface AnyClient {
  protocolVersion(): string | undefined;
  listTools(): Promise<any>;
  callTool(name: string, args: Record<string, unknown>, opts?: Opts): Promise<any>;
  listResources(cursor?: string): Promise<any>;
  listResourceTemplates(): Promise<any>;
  readResource(uri: string): Promise<any>;
  listPrompts(): Promise<any>;
  getPrompt(name: string, args: Record<string, string>): Promise<any>;
  complete(params: any): Promise<any>;
  close(): Promise<void>;
}

function wrapV1(c: ClientV1): AnyClient {
  return {
    protocolVersion: () => (c.transport as HttpTransportV1 | undefined)?.protocolVersion,
    listTools: () => c.listTools(),
    callTool: (name, args, opts) => c.callTool({ name, arguments: args }, undefined, opts),
    listResources: (cursor) => c.listResources(cursor ? { cursor } : undefined),
    listResourceTemplates: () => c.listResourceTemplates(),
    readResource: (uri) => c.readResource({ uri }),
    listPrompts: () => c.listPrompts(),
    getPrompt: (name, args) => c.getPrompt({ name, arguments: args }),
    complete: (params) => c.complete(params),
    close: () => c.close(),
  };
}

function wrapV2(c: ClientV2): AnyClient {
  return {
    protocolVersion: () => c.getNegotiatedProtocolVersion(),
    listTools: () => c.listTools(),
    callTool: (name, args, opts) => c.callTool({ name, arguments: args }, opts),
    listResources: (cursor) => c.listResources(cursor ? { cursor } : undefined),
    listResourceTemplates: () => c.listResourceTemplates(),
    readResource: (uri) => c.readResource({ uri }),
    listPrompts: () => c.listPrompts(),
    getPrompt: (name, args) => c.getPrompt({ name, arguments: args }),
    complete: (params) => c.complete(params),
    close: () => c.close(),
  };
}

export const rows = <T = any>(sql: string, replacements: Record<string, unknown> = {}) =>
  db().query(sql, { replacements, type: QueryTypes.SELECT }) as unknown as Promise<T[]>;

export const text = (result: any): string => result.content?.map((c: any) => c.text ?? '').join('') ?? '';
