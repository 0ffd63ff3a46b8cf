// The OpenAPI document, liveness, and the JSON shape of unknown routes.
import { describe, expect, it } from 'vitest';
import { signupTeam, useTestApp } from '../support/harness.js';
import { request } from './helpers.js';

useTestApp();

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Follow a local `#/…` reference inside the document. */
function resolveRef(doc: any, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node == null ? undefined : node[key]), doc);
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is a well-formed OpenAPI 3 document with the auth, me, users and API-key paths and a bearer scheme', async () => {
    const res = await request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');

    const expected: Record<string, string[]> = {
      '/api/auth/signup': ['post'],
      '/api/auth/login': ['post'],
      '/api/auth/logout': ['post'],
      '/api/me': ['get', 'patch'],
      '/api/me/password': ['post'],
      '/api/users': ['get', 'post'],
      '/api/users/{id}': ['get', 'patch', 'delete'],
      '/api/api-keys': ['get', 'post'],
      '/api/api-keys/{id}': ['delete'],
    };
    for (const [p, methods] of Object.entries(expected)) {
      expect(doc.paths[p], p).toBeDefined();
      for (const m of methods) expect(doc.paths[p][m], `${m.toUpperCase()} ${p}`).toBeDefined();
    }

    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/me'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/auth/signup'].post.security ?? []).toEqual([]);
    expect(doc.paths['/api/auth/login'].post.security ?? []).toEqual([]);

    // Structure: every operation has responses with descriptions, path parameters are declared, ids are
    // unique, and every $ref points at something in the document.
    const operationIds = new Set<string>();
    for (const [p, item] of Object.entries<any>(doc.paths)) {
      expect(p.startsWith('/'), p).toBe(true);
      const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const m of METHODS.filter((x) => item[x])) {
        const op = item[m];
        expect(Object.keys(op.responses ?? {}).length, `${m} ${p} responses`).toBeGreaterThan(0);
        for (const r of Object.values<any>(op.responses)) expect(typeof (r.description ?? resolveRef(doc, r.$ref))).not.toBe('undefined');
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x: any) => (x.$ref ? resolveRef(doc, x.$ref) : x));
        for (const name of templated) expect(params.some((x: any) => x.in === 'path' && x.name === name && x.required === true), `${m} ${p} declares {${name}}`).toBe(true);
        if (op.operationId) {
          expect(operationIds.has(op.operationId), op.operationId).toBe(false);
          operationIds.add(op.operationId);
        }
        for (const s of op.security ?? []) for (const name of Object.keys(s)) expect(doc.components.securitySchemes[name], name).toBeDefined();
      }
    }
    for (const ref of collectRefs(doc)) expect(resolveRef(doc, ref), ref).toBeDefined();

    // The request schemas are the ones the routes validate with.
    const signup = doc.paths['/api/auth/signup'].post.requestBody.content['application/json'].schema;
    const signupSchema: any = signup.$ref ? resolveRef(doc, signup.$ref) : signup;
    expect(signupSchema.required).toEqual(expect.arrayContaining(['tenantName', 'email', 'password']));
    expect(signupSchema.properties.tenantName.maxLength).toBe(255);
  });
});

describe('health and unknown routes', () => {
  it('GET /healthz answers 200 while the process is up', async () => {
    const res = await request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when the database is reachable', async () => {
    const res = await request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks.database).toBe('ok');
  });

  it('an unknown route is 404 route_not_found in the JSON error shape, with a request id', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['POST', '/api/nothing/here'],
      ['GET', '/definitely-not-here'],
    ] as const) {
      const res = await request(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'route_not_found', message: expect.stringContaining(path) } });
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
    // Under an authenticated prefix, a signed-in caller gets the same 404.
    const team = await signupTeam();
    const res = await request('GET', '/api/users/not-a-route/at-all', { token: team.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('route_not_found');
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const mine = await request('GET', '/healthz', { headers: { 'x-request-id': 'trace-123.abc' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123.abc');
    const bad = await request('GET', '/healthz', { headers: { 'x-request-id': 'evil\u0001id with spaces' } });
    expect(bad.headers.get('x-request-id')).not.toContain('evil');
  });
});
