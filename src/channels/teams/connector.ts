// Talking back to Teams through the Bot Connector at the activity's serviceUrl (checked against the
// signed token before we get here). The bot authenticates with an app token from the client-credentials
// grant at TEAMS_LOGIN_URL (default: the multi-tenant botframework.com endpoint; a single-tenant bot sets
// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token), cached until shortly before it expires.
// Transient failures are retried with backoff; a 401 drops the cached token and tries once more.
import { config } from '../../config.js';
import { AppError } from '../../errors.js';
import { ChannelApiError, retryAfterMs, withRetry } from '../shared/retry.js';

export const DEFAULT_LOGIN_URL = 'https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token';
const SCOPE = 'https://api.botframework.com/.default';
const TIMEOUT_MS = 10_000;

let token: { value: string; expiresAt: number; key: string } | undefined;
let pending: Promise<string> | undefined;

async function fetchBotToken(key: string): Promise<string> {
  const c = config();
  const res = await fetch(c.TEAMS_LOGIN_URL ?? DEFAULT_LOGIN_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.TEAMS_APP_ID!, client_secret: c.TEAMS_APP_PASSWORD!, scope: SCOPE }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) throw new ChannelApiError(`bot token: HTTP ${res.status}`, res.status === 429 || res.status >= 500, retryAfterMs(res), res.status);
  const body = (await res.json()) as { access_token?: string; expires_in?: number };
  if (!body.access_token) throw new ChannelApiError('bot token: no access_token', false);
  const ttl = Math.max(60, Number(body.expires_in ?? 3600));
  token = { value: body.access_token, expiresAt: Date.now() + (ttl - 300 > 60 ? ttl - 300 : ttl / 2) * 1000, key };
  return body.access_token;
}

async function botToken(): Promise<string> {
  const c = config();
  if (!c.TEAMS_APP_ID || !c.TEAMS_APP_PASSWORD)
    throw new AppError('channel_not_configured', 'Microsoft Teams is not configured on this server (TEAMS_APP_ID, TEAMS_APP_PASSWORD).', 503);
  const key = `${c.TEAMS_LOGIN_URL}|${c.TEAMS_APP_ID}`;
  if (token && token.key === key && token.expiresAt > Date.now()) return token.value;
  pending ??= withRetry(() => fetchBotToken(key)).finally(() => (pending = undefined));
  return pending;
}

async function connector<T>(serviceUrl: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
  const url = new URL(path.replace(/^\//, ''), serviceUrl.endsWith('/') ? serviceUrl : serviceUrl + '/');
  let refreshed = false;
  return withRetry(async () => {
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${await botToken()}`, ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (res.status === 401 && !refreshed) {
      refreshed = true;
      token = undefined;
      throw new ChannelApiError(`Teams ${method} ${url.pathname}: HTTP 401`, true, 0, 401);
    }
    if (!res.ok) throw new ChannelApiError(`Teams ${method} ${url.pathname}: HTTP ${res.status}`, res.status === 429 || res.status >= 500, retryAfterMs(res), res.status);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  });
}

export interface TeamsMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
}

export interface OutgoingActivity {
  type: 'message' | 'typing';
  text?: string;
  textFormat?: 'markdown' | 'plain';
  replyToId?: string;
  attachments?: { contentType: string; content: unknown }[];
  [k: string]: unknown;
}

const enc = encodeURIComponent;

export const teamsConnector = {
  /** The conversation member behind `userId`, with their Entra email / UPN. */
  member: (serviceUrl: string, conversationId: string, userId: string) =>
    connector<TeamsMember>(serviceUrl, 'GET', `v3/conversations/${enc(conversationId)}/members/${enc(userId)}`),
  reply: (serviceUrl: string, conversationId: string, activityId: string, activity: OutgoingActivity) =>
    connector<{ id?: string }>(serviceUrl, 'POST', `v3/conversations/${enc(conversationId)}/activities/${enc(activityId)}`, activity),
  update: (serviceUrl: string, conversationId: string, activityId: string, activity: OutgoingActivity) =>
    connector<{ id?: string }>(serviceUrl, 'PUT', `v3/conversations/${enc(conversationId)}/activities/${enc(activityId)}`, { ...activity, id: activityId }),
};

/** Tests: forget the cached bot token. */
export function resetTeamsToken() {
  token = undefined;
}
