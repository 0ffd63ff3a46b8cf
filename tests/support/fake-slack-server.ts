// A local Slack Web API for tests: the methods the bot calls (chat.postMessage, chat.update,
// chat.postEphemeral, users.info, oauth.v2.access) with Slack's shapes — JSON or form bodies, bearer
// tokens checked against the installed workspaces, `{ ok: false, error }` answers — recorded in order.
// Failures can be scripted per method (an HTTP status, a Slack error, a dropped connection) to exercise
// the retries. It is the process boundary: our code reaches it through SLACK_API_URL.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackUser {
  id: string;
  email?: string;
  is_bot?: boolean;
  deleted?: boolean;
  is_email_confirmed?: boolean;
}

export interface FakeSlackCall {
  method: string;
  token?: string;
  body: Record<string, any>;
  /** When the call arrived (ms). */
  at: number;
}

/** An HTTP status, a Slack error, a dropped connection, or a slow (but then normal) answer. */
export type FakeSlackFailure = { status: number; retryAfter?: number } | { error: string } | { drop: true } | { delayMs: number };

export interface FakeSlack {
  /** Base URL ending in /api/, for SLACK_API_URL. */
  url: string;
  calls: FakeSlackCall[];
  callsTo(method: string): FakeSlackCall[];
  /** OAuth: `code` → the workspace and bot token oauth.v2.access hands out for it. */
  addOAuthCode(code: string, grant: { teamId: string; teamName?: string; botUserId: string; botToken: string; installer?: string }): void;
  /** A bot token the API accepts for `teamId` (what an install stored). */
  addToken(token: string, teamId: string): void;
  addUser(teamId: string, user: FakeSlackUser): void;
  /** The next `times` calls to `method` fail this way. */
  failNext(method: string, failure: FakeSlackFailure, times?: number): void;
  /** Drop every scripted failure not used yet. */
  clearFailures(): void;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return raw ? JSON.parse(raw) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startFakeSlack(opts: { clientId?: string; clientSecret?: string } = {}): Promise<FakeSlack> {
  const clientId = opts.clientId ?? '1111.2222';
  const clientSecret = opts.clientSecret ?? 'fake-client-secret';
  const calls: FakeSlackCall[] = [];
  const tokens = new Map<string, string>();
  const users = new Map<string, FakeSlackUser>(); // `${team}:${id}`
  const codes = new Map<string, { teamId: string; teamName?: string; botUserId: string; botToken: string; installer?: string }>();
  const failures = new Map<string, FakeSlackFailure[]>();
  let seq = 1;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(seq++).padStart(6, '0')}`;

  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = url.pathname.replace(/^\/api\//, '');
    const body = await readBody(req);
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    calls.push({ method, token, body, at: Date.now() });

    const queued = failures.get(method);
    const failure = queued?.shift();
    if (failure && 'delayMs' in failure) await new Promise((r) => setTimeout(r, failure.delayMs));
    else if (failure) {
      if ('drop' in failure) return void req.socket.destroy();
      if ('status' in failure) return send(failure.status, { ok: false, error: 'http_error' }, failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      return send(200, { ok: false, error: failure.error });
    }

    if (method === 'oauth.v2.access') {
      const basic = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : `${body.client_id}:${body.client_secret}`;
      if (basic !== `${clientId}:${clientSecret}`) return send(200, { ok: false, error: 'invalid_client_id' });
      const grant = codes.get(body.code);
      if (!grant) return send(200, { ok: false, error: 'invalid_code' });
      codes.delete(body.code);
      tokens.set(grant.botToken, grant.teamId);
      return send(200, {
        ok: true,
        access_token: grant.botToken,
        token_type: 'bot',
        scope: 'app_mentions:read,chat:write,im:history,users:read,users:read.email',
        bot_user_id: grant.botUserId,
        app_id: 'A0FAKEAPP',
        team: { id: grant.teamId, name: grant.teamName ?? 'Fake workspace' },
        enterprise: null,
        authed_user: { id: grant.installer ?? 'UINSTALLER' },
      });
    }

    const teamId = token ? tokens.get(token) : undefined;
    if (!teamId) return send(200, { ok: false, error: 'invalid_auth' });
    switch (method) {
      case 'chat.postMessage':
        if (!body.channel || !body.text) return send(200, { ok: false, error: 'no_text' });
        return send(200, { ok: true, channel: body.channel, ts: nextTs(), message: { text: body.text } });
      case 'chat.update':
        if (!body.channel || !body.ts) return send(200, { ok: false, error: 'message_not_found' });
        return send(200, { ok: true, channel: body.channel, ts: body.ts, text: body.text });
      case 'chat.postEphemeral':
        return send(200, { ok: true, message_ts: nextTs() });
      case 'users.info': {
        const u = users.get(`${teamId}:${body.user}`);
        if (!u) return send(200, { ok: false, error: 'user_not_found' });
        return send(200, {
          ok: true,
          user: { id: u.id, team_id: teamId, deleted: !!u.deleted, is_bot: !!u.is_bot, is_email_confirmed: u.is_email_confirmed ?? true, profile: u.email ? { email: u.email } : {} },
        });
      }
      default:
        return send(200, { ok: false, error: 'unknown_method' });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (m) => calls.filter((c) => c.method === m),
    addOAuthCode: (code, grant) => codes.set(code, grant),
    addToken: (t, teamId) => tokens.set(t, teamId),
    addUser: (teamId, u) => users.set(`${teamId}:${u.id}`, u),
    failNext: (m, f, times = 1) => failures.set(m, [...(failures.get(m) ?? []), ...Array.from({ length: times }, () => f)]),
    clearFailures: () => failures.clear(),
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
