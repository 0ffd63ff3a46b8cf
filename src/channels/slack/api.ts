// The few Slack Web API methods the bot uses, over fetch, at SLACK_API_URL (default
// https://slack.com/api/; tests point it at a local fake). Write methods take JSON with the bot token;
// users.info and oauth.v2.access take form fields, as Slack requires for them. Transient failures
// (network, HTTP 5xx, 429 with Retry-After, Slack's own ratelimited/internal errors) are retried with
// backoff; anything else (invalid_auth, channel_not_found…) fails at once.
import { config } from '../../config.js';
import { ChannelApiError, retryAfterMs, withRetry, type RetryOptions } from '../shared/retry.js';

const TRANSIENT = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
const TIMEOUT_MS = 10_000;

export function slackApiBase(): string {
  const base = config().SLACK_API_URL ?? 'https://slack.com/api/';
  return base.endsWith('/') ? base : base + '/';
}

/** Slack's browser authorize page, beside the API (https://slack.com/oauth/v2/authorize). */
export const slackAuthorizeUrl = () => new URL('../oauth/v2/authorize', slackApiBase()).toString();

export interface SlackUser {
  id: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_email_confirmed?: boolean;
  profile?: { email?: string; real_name?: string };
}

export interface OAuthV2Access {
  access_token: string;
  token_type?: string;
  scope?: string;
  bot_user_id: string;
  app_id?: string;
  team: { id: string; name?: string };
  enterprise?: { id: string } | null;
  authed_user?: { id: string };
}

type Params = Record<string, unknown>;

async function call<T>(method: string, params: Params, opts: { token?: string; form?: boolean; basicAuth?: string; retry?: RetryOptions }): Promise<T> {
  return withRetry(async () => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.basicAuth) headers.authorization = `Basic ${opts.basicAuth}`;
    let body: string;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();
    } else {
      headers['content-type'] = 'application/json; charset=utf-8';
      body = JSON.stringify(params);
    }
    const res = await fetch(new URL(method, slackApiBase()), { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status === 429 || res.status >= 500)
      throw new ChannelApiError(`Slack ${method}: HTTP ${res.status}`, true, retryAfterMs(res), res.status);
    const data = (await res.json().catch(() => null)) as ({ ok?: boolean; error?: string } & T) | null;
    if (!res.ok || !data) throw new ChannelApiError(`Slack ${method}: HTTP ${res.status}`, false, undefined, res.status);
    if (!data.ok) throw new ChannelApiError(`Slack ${method}: ${data.error ?? 'unknown_error'}`, TRANSIENT.has(data.error ?? ''), retryAfterMs(res));
    return data;
  }, opts.retry);
}

/** A Slack client acting as one workspace's bot. */
export class SlackClient {
  constructor(private readonly token: string) {}

  postMessage(p: { channel: string; text: string; thread_ts?: string; blocks?: unknown[] }) {
    return call<{ ts: string; channel: string }>('chat.postMessage', { ...p, unfurl_links: false, unfurl_media: false }, { token: this.token });
  }

  /** `retry: { attempts: 1 }` for progress updates that a later one supersedes anyway. */
  update(p: { channel: string; ts: string; text: string; blocks?: unknown[] }, retry?: RetryOptions) {
    return call<{ ts: string }>('chat.update', { ...p, blocks: p.blocks ?? [] }, { token: this.token, retry });
  }

  postEphemeral(p: { channel: string; user: string; text: string; thread_ts?: string }) {
    return call<{ message_ts: string }>('chat.postEphemeral', p, { token: this.token });
  }

  async userInfo(user: string): Promise<SlackUser> {
    return (await call<{ user: SlackUser }>('users.info', { user }, { token: this.token, form: true })).user;
  }
}

/** Exchange an OAuth v2 code for the workspace's bot token. */
export function oauthV2Access(p: { code: string; redirectUri: string }): Promise<OAuthV2Access> {
  const c = config();
  const basic = Buffer.from(`${c.SLACK_CLIENT_ID}:${c.SLACK_CLIENT_SECRET}`).toString('base64');
  return call<OAuthV2Access>('oauth.v2.access', { code: p.code, redirect_uri: p.redirectUri }, { form: true, basicAuth: basic });
}
