// Helpers for the foundation tests: requests that carry a client IP (so the per-IP log-in limiter and
// the audit trail see a real address, and tests never share the "unknown" IP bucket), cookies, and
// plain SQL reads of what the service stored.
import { createHash } from 'node:crypto';
import { QueryTypes, type Sequelize } from 'sequelize';
import { app, STRONG_PASSWORD, uniqueEmail, type JsonResponse } from '../support/harness.js';

export { STRONG_PASSWORD, uniqueEmail };

/** A random private IPv4 address: one per test keeps rate-limit buckets apart (also across runs on Redis). */
export const randomIp = () => `10.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
const rnd = (n: number) => Math.floor(Math.random() * n);

export const randomSuffix = () => Math.random().toString(36).slice(2, 8);

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RequestOptions {
  token?: string;
  cookie?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  ip?: string;
  userAgent?: string;
}

/** Call the app in-process like a client at `ip` would. */
export async function request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { 'user-agent': opts.userAgent ?? 'foundation-tests/1.0', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  // @hono/node-server's getConnInfo reads the peer address from env.incoming.socket.
  const env = { incoming: { socket: { remoteAddress: opts.ip ?? randomIp(), remoteFamily: 'IPv4', remotePort: 40000 } } };
  const res = await app().request(path, { method, headers, body }, env);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Sign up through the HTTP API; returns the response plus the parsed essentials. */
export async function signupViaApi(opts: { tenantName?: string; email?: string; password?: string; ip?: string } = {}) {
  const email = opts.email ?? uniqueEmail('owner');
  const tenantName = opts.tenantName ?? `Team ${randomSuffix()}`;
  const res = await request('POST', '/api/auth/signup', {
    json: { tenantName, email, password: opts.password ?? STRONG_PASSWORD },
    ip: opts.ip,
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    res,
    token: res.body.token as string,
    tenantId: res.body.tenant.id as string,
    userId: res.body.user.id as string,
    slug: res.body.tenant.slug as string,
    email,
    tenantName,
  };
}

/** Add a user with a known password (as the given owner/admin token) and sign them in. */
export async function addUser(adminToken: string, role: string, opts: { ip?: string } = {}) {
  const email = uniqueEmail(role);
  const created = await request('POST', '/api/users', { token: adminToken, json: { email, password: STRONG_PASSWORD, role }, ip: opts.ip });
  if (created.status !== 201) throw new Error(`create user failed: ${created.status} ${JSON.stringify(created.body)}`);
  const tenantSlug = (await request('GET', '/api/me', { token: adminToken })).body.tenant.slug as string;
  const login = await request('POST', '/api/auth/login', { json: { email, password: STRONG_PASSWORD, tenantSlug } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: created.body.id as string, email, token: login.body.token as string };
}

/** Rows of a SELECT, with named replacements. */
export function rows<T extends object = Record<string, any>>(sequelize: Sequelize, sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  return sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
}

export async function one<T extends object = Record<string, any>>(sequelize: Sequelize, sql: string, replacements: Record<string, unknown> = {}): Promise<T | undefined> {
  return (await rows<T>(sequelize, sql, replacements))[0];
}

/** The `name=value` pair of a Set-Cookie header, and its attributes (lower-cased names). */
export function parseSetCookie(header: string | null) {
  if (!header) return undefined;
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair!.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    if (i < 0) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}
