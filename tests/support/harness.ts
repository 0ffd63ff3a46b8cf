// Test harness: the app and its database in this worker, plus factories. Each test makes its own team
// (tenant), so tenancy keeps tests apart; nothing is truncated.
import { afterAll, beforeAll } from 'vitest';
import type { AuthContext } from '../../src/auth/context.js';
import { signup } from '../../src/auth/signup.js';
import { openCache, type Cache } from '../../src/cache/index.js';
import { loadConfig, setConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { createApp } from '../../src/http/app.js';
import '../../src/features.js';

let database: Database | undefined;
let cacheHandle: Cache | undefined;
let appInstance: ReturnType<typeof createApp> | undefined;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...overrides });
}

/** Open the shared test database (migrated by the global setup) and the cache for this file. */
export function useTestApp(overrides: Record<string, string> = {}) {
  beforeAll(async () => {
    const cfg = testConfig(overrides);
    setConfig(cfg);
    database = await openDatabase(cfg, { migrate: false });
    cacheHandle = openCache(cfg.REDIS_URL);
    appInstance = createApp();
  });
  afterAll(async () => {
    await cacheHandle?.close();
    await database?.close();
  });
  return {
    get app() {
      return appInstance!;
    },
    get db() {
      return database!.sequelize;
    },
  };
}

export function app() {
  if (!appInstance) throw new Error('call useTestApp() in the test file first');
  return appInstance;
}

let seq = 0;
export const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.test`;

export const STRONG_PASSWORD = 'Correct-Horse-Battery-9';

export interface Team {
  token: string;
  tenantId: string;
  userId: string;
  slug: string;
  email: string;
  auth: AuthContext;
}

/** A fresh team with its owner signed in. */
export async function signupTeam(name = 'Team ' + Math.random().toString(36).slice(2, 8)): Promise<Team> {
  const email = uniqueEmail('owner');
  const { tenant, user, session } = await signup({ tenantName: name, email, password: STRONG_PASSWORD }, { ip: '127.0.0.1', userAgent: 'vitest' });
  return {
    token: session.token,
    tenantId: tenant.id,
    userId: user.id,
    slug: tenant.slug,
    email,
    auth: { tenantId: tenant.id, userId: user.id, role: 'owner', email },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Call the app in-process (no network), JSON in and out. */
export async function call<T = any>(
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await app().request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
