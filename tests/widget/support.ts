// Helpers for the widget tests: plain SQL reads, and a small HTTP client for a started server.
import { QueryTypes } from 'sequelize';
import { db } from '../../src/db/index.js';

/** Plain SQL (reads, and the odd fixture tweak such as expiring a token). */
export const rows = <T extends object = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}) =>
  db().query<T>(sql, { replacements, type: QueryTypes.SELECT });

/** JSON over real HTTP to a started server. */
export async function http<T = any>(base: string, method: string, path: string, opts: { token?: string; json?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: opts.json === undefined ? undefined : JSON.stringify(opts.json) });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export const STRONG_PASSWORD = 'Correct-Horse-Battery-9';

/** A team on a started server, with widget settings, a chat API key and a widget token for a visitor. */
export async function widgetTeam(base: string, opts: { name?: string; origins: string[]; visitor?: string }) {
  const email = `owner-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const signup = await http(base, 'POST', '/api/auth/signup', { json: { tenantName: opts.name ?? `Widget ${crypto.randomUUID().slice(0, 6)}`, email, password: STRONG_PASSWORD } });
  if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`);
  const owner = signup.body.token as string;
  const tenant = signup.body.tenant as { id: string; slug: string };
  await http(base, 'PUT', '/api/widget/settings', { token: owner, json: { allowedOrigins: opts.origins, autoCreateUsers: true } });
  const key = (await http(base, 'POST', '/api/api-keys', { token: owner, json: { name: 'site', scopes: ['chat'] } })).body.key as string;
  const visitor = opts.visitor ?? `visitor-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const mint = async () => {
    const r = await http(base, 'POST', '/api/widget/token', { token: key, json: { email: visitor, firstName: 'Vera' } });
    if (r.status !== 201) throw new Error(`mint failed: ${JSON.stringify(r.body)}`);
    return r.body as { token: string; user: { id: string } };
  };
  const first = await mint();
  return { owner, ownerEmail: email, tenant, key, visitor, token: first.token, userId: first.user.id, mint };
}
