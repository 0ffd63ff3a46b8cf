// A local stand-in for Microsoft's side of a Teams bot: the Bot Framework OpenID metadata and its JWKS
// (an RSA key pair made here with jose; `sign` issues activity tokens as the Bot Connector would, or with
// a key it does not publish), the client-credentials token endpoint, and the Bot Connector conversations
// API at `serviceUrl` (members lookup, replies, updates), every call recorded. Failures can be scripted.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface FakeTeamsMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
}

export interface FakeTeamsCall {
  method: string;
  path: string;
  token?: string;
  body: any;
}

export interface FakeTeams {
  base: string;
  metadataUrl: string;
  loginUrl: string;
  /** The Bot Connector base URL to put in activities (and tokens). */
  serviceUrl: string;
  calls: FakeTeamsCall[];
  /** Replies and updates posted to conversations. */
  activities(): FakeTeamsCall[];
  tokenRequests: Record<string, string>[];
  addMember(conversationId: string, member: FakeTeamsMember): void;
  /** The next `times` requests whose path includes `pathPart` answer `status`. */
  failNext(pathPart: string, status: number, times?: number): void;
  clearFailures(): void;
  /** An activity token; claims default to a valid one for `appId` and this serviceUrl. */
  sign(claims?: Record<string, unknown>, opts?: { key?: 'trusted' | 'unknown'; expiresIn?: string | number; notBefore?: string | number; issuer?: string; audience?: string; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return raw ? JSON.parse(raw) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startFakeTeams(opts: { appId: string; appPassword: string }): Promise<FakeTeams> {
  const trusted = await generateKeyPair('RS256', { extractable: true });
  const unknown = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(trusted.publicKey)), kid: 'fake-key-1', use: 'sig', alg: 'RS256' };
  const calls: FakeTeamsCall[] = [];
  const tokenRequests: Record<string, string>[] = [];
  const members = new Map<string, FakeTeamsMember>(); // `${conversation}|${userId}`
  const failures: { part: string; status: number }[] = [];
  const issued = new Set<string>();
  let base = '';

  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    const body = req.method === 'GET' ? undefined : await readBody(req);
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    calls.push({ method: req.method ?? 'GET', path, token, body });
    const f = failures.findIndex((x) => path.includes(x.part));
    if (f >= 0) {
      const { status } = failures.splice(f, 1)[0]!;
      return send(status, { error: { code: 'ServiceError', message: 'scripted failure' } });
    }

    if (path === '/openid')
      return send(200, { issuer: 'https://api.botframework.com', jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256'], token_endpoint_auth_methods_supported: ['private_key_jwt'] });
    if (path === '/keys') return send(200, { keys: [{ ...publicJwk, endorsements: ['msteams', 'webchat'] }] });
    if (path === '/token' && req.method === 'POST') {
      tokenRequests.push(body);
      if (body.grant_type !== 'client_credentials' || body.client_id !== opts.appId || body.client_secret !== opts.appPassword)
        return send(401, { error: 'invalid_client' });
      const t = `bot-token-${issued.size + 1}`;
      issued.add(t);
      return send(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: t });
    }
    const m = path.match(/^\/service\/v3\/conversations\/([^/]+)\/(members|activities)\/([^/]+)$/);
    if (m) {
      if (!token || !issued.has(token)) return send(401, { message: 'Authorization has been denied for this request.' });
      const [, conversationId, kind, id] = m as unknown as [string, string, string, string];
      if (kind === 'members' && req.method === 'GET') {
        const member = members.get(`${conversationId}|${id}`);
        return member ? send(200, member) : send(404, { error: { code: 'MemberNotFoundInConversation', message: 'not a member' } });
      }
      if (kind === 'activities' && (req.method === 'POST' || req.method === 'PUT')) return send(200, { id: req.method === 'PUT' ? id : `reply-${calls.length}` });
    }
    send(404, { error: { code: 'NotFound', message: path } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serviceUrl = `${base}/service/`;

  return {
    base,
    metadataUrl: `${base}/openid`,
    loginUrl: `${base}/token`,
    serviceUrl,
    calls,
    activities: () => calls.filter((c) => /\/activities\//.test(c.path) && (c.method === 'POST' || c.method === 'PUT')),
    tokenRequests,
    addMember: (conversationId, member) => members.set(`${conversationId}|${member.id}`, member),
    failNext: (part, status, times = 1) => {
      for (let i = 0; i < times; i++) failures.push({ part, status });
    },
    clearFailures: () => void failures.splice(0),
    async sign(claims = {}, o = {}) {
      const key = o.key === 'unknown' ? unknown.privateKey : trusted.privateKey;
      const jwt = new SignJWT({ serviceurl: serviceUrl, ...claims })
        .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.key === 'unknown' ? 'not-published' : 'fake-key-1', typ: 'JWT' })
        .setIssuer(o.issuer ?? 'https://api.botframework.com')
        .setAudience(o.audience ?? opts.appId)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? '10m');
      if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
      return jwt.sign(key);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
