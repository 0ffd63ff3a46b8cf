// A local Stripe API for tests and benchmarks: the few endpoints FlowSpark calls (customers, Checkout
// sessions, billing-portal sessions, cancelling a subscription), Stripe's form-encoded requests and error
// bodies, Idempotency-Key replay, a secret-key check, and failure injection. The `stripe` npm client talks
// to it through STRIPE_API_URL, so the client library itself is exercised, not faked.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeStripeRequest {
  method: string;
  path: string;
  body: Record<string, any>;
  idempotencyKey?: string;
}

export interface InjectedFailure {
  /** Matches `${method} ${path}`, e.g. /POST \/v1\/checkout\/sessions/. Default: every request. */
  match?: RegExp;
  status: number;
  type?: string;
  message?: string;
  code?: string;
  /** How many requests fail (default: until clearFailures()). */
  times?: number;
  /** Destroy the socket instead of answering (a network failure). */
  dropConnection?: boolean;
}

export interface FakeStripe {
  /** For STRIPE_API_URL. */
  url: string;
  secretKey: string;
  requests: FakeStripeRequest[];
  customers: Map<string, Record<string, any>>;
  checkoutSessions: Map<string, Record<string, any>>;
  portalSessions: Map<string, Record<string, any>>;
  canceledSubscriptions: string[];
  fail(f: InjectedFailure): void;
  clearFailures(): void;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export async function startFakeStripe(opts: { secretKey?: string } = {}): Promise<FakeStripe> {
  const secretKey = opts.secretKey ?? 'sk_test_fake_' + randomBytes(6).toString('hex');
  const requests: FakeStripeRequest[] = [];
  const customers = new Map<string, Record<string, any>>();
  const checkoutSessions = new Map<string, Record<string, any>>();
  const portalSessions = new Map<string, Record<string, any>>();
  const canceledSubscriptions: string[] = [];
  const idempotent = new Map<string, { status: number; body: unknown }>();
  let failures: (InjectedFailure & { left: number })[] = [];

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = await readBody(req);
      const body = parseForm(raw);
      const method = req.method ?? 'GET';
      const idempotencyKey = header(req, 'idempotency-key');
      requests.push({ method, path: url.pathname, body, idempotencyKey });

      const failure = failures.find((f) => f.left > 0 && (!f.match || f.match.test(`${method} ${url.pathname}`)));
      if (failure) {
        failure.left--;
        if (failure.dropConnection) return req.socket.destroy();
        return sendError(res, failure.status, failure.type ?? (failure.status >= 500 ? 'api_error' : 'invalid_request_error'), failure.message ?? 'Injected failure.', failure.code, false);
      }
      if (header(req, 'authorization') !== `Bearer ${secretKey}`)
        return sendError(res, 401, 'invalid_request_error', 'Invalid API Key provided.', 'api_key_invalid');

      const cacheKey = idempotencyKey ? `${method} ${url.pathname} ${idempotencyKey}` : undefined;
      if (cacheKey && idempotent.has(cacheKey)) {
        const hit = idempotent.get(cacheKey)!;
        return sendJson(res, hit.status, hit.body, { 'idempotent-replayed': 'true' });
      }
      const [status, out] = route(method, url.pathname, body);
      if (cacheKey && status < 500) idempotent.set(cacheKey, { status, body: out });
      sendJson(res, status, out);
    } catch (err) {
      if (!res.headersSent) sendError(res, 500, 'api_error', String(err));
    }
  });

  function route(method: string, path: string, body: Record<string, any>): [number, unknown] {
    if (method === 'POST' && path === '/v1/customers') {
      const c = { id: id('cus'), object: 'customer', created: now(), email: body.email ?? null, name: body.name ?? null, metadata: body.metadata ?? {}, livemode: false };
      customers.set(c.id, c);
      return [200, c];
    }
    let m = path.match(/^\/v1\/customers\/([^/]+)$/);
    if (method === 'GET' && m) return customers.has(m[1]!) ? [200, customers.get(m[1]!)] : notFoundError('customer', m[1]!);
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (!body.mode) return [400, { error: { type: 'invalid_request_error', message: 'Missing required param: mode.', param: 'mode' } }];
      if (body.customer && !customers.has(body.customer)) return notFoundError('customer', body.customer);
      const s = {
        id: id('cs_test'),
        object: 'checkout.session',
        created: now(),
        expires_at: now() + 86_400,
        mode: body.mode,
        customer: body.customer ?? null,
        client_reference_id: body.client_reference_id ?? null,
        metadata: body.metadata ?? {},
        line_items: body.line_items ?? [],
        subscription_data: body.subscription_data ?? null,
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        payment_status: 'unpaid',
        status: 'open',
        subscription: null,
        url: '',
        livemode: false,
      };
      s.url = `https://checkout.stripe.test/c/pay/${s.id}`;
      checkoutSessions.set(s.id, s);
      const { line_items: _l, subscription_data: _d, ...visible } = s;
      return [200, visible];
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      if (!body.customer || !customers.has(body.customer)) return notFoundError('customer', body.customer ?? '');
      const p = { id: id('bps'), object: 'billing_portal.session', created: now(), customer: body.customer, return_url: body.return_url ?? null, url: '', livemode: false };
      p.url = `https://billing.stripe.test/p/session/${p.id}`;
      portalSessions.set(p.id, p);
      return [200, p];
    }
    m = path.match(/^\/v1\/subscriptions\/([^/]+)$/);
    if (method === 'DELETE' && m) {
      canceledSubscriptions.push(m[1]!);
      return [200, { id: m[1], object: 'subscription', status: 'canceled', canceled_at: now(), ended_at: now() }];
    }
    return [404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } }];
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    customers,
    checkoutSessions,
    portalSessions,
    canceledSubscriptions,
    fail: (f) => failures.push({ ...f, left: f.times ?? Infinity }),
    clearFailures: () => void (failures = []),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const notFoundError = (what: string, which: string): [number, unknown] => [
  404,
  { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${which}'`, param: what } },
];

/** Stripe's form encoding: a[b][0][c]=v → { a: { b: [ { c: 'v' } ] } }. */
export function parseForm(raw: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const parts = key.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: any = out;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]!);
      if (last) node[part] = value;
      else node = node[part] ??= nextIsIndex ? [] : {};
    });
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, type: string, message: string, code?: string, retry = false) {
  sendJson(res, status, { error: { type, message, ...(code ? { code } : {}) } }, { 'stripe-should-retry': String(retry) });
}
