// Slack test helpers: requests signed exactly as Slack signs them, event envelopes, and the real OAuth
// install flow against the fake Slack server.
import { expect } from 'vitest';
import { slackSignature } from '../../src/channels/slack/signature.js';
import type { FakeSlack } from '../support/fake-slack-server.js';
import { app, type Team } from '../support/harness.js';
import { randomId } from './support.js';

export const SIGNING_SECRET = 'test-slack-signing-secret';

export const slackEnv = (fake: FakeSlack) => ({
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_CLIENT_ID: fake.clientId,
  SLACK_CLIENT_SECRET: fake.clientSecret,
  SLACK_API_URL: fake.url,
  SECRET_KEY: 'test-secret-key-for-channel-credentials',
  PUBLIC_URL: 'http://flowspark.test',
});

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function signedPost(
  path: string,
  raw: string,
  opts: { secret?: string; ts?: number; contentType?: string; headers?: Record<string, string>; signature?: string } = {},
): Promise<Response> {
  const ts = String(opts.ts ?? nowSeconds());
  return Promise.resolve(
    app().request(path, {
      method: 'POST',
      headers: {
        'content-type': opts.contentType ?? 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': opts.signature ?? slackSignature(opts.secret ?? SIGNING_SECRET, ts, raw),
        ...(opts.headers ?? {}),
      },
      body: raw,
    }),
  );
}

export const postEvent = (body: unknown, opts: Parameters<typeof signedPost>[2] = {}) => signedPost('/api/channels/slack/events', JSON.stringify(body), opts);

export function postInteraction(payload: unknown, opts: Parameters<typeof signedPost>[2] = {}) {
  return signedPost('/api/channels/slack/interactivity', new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), {
    contentType: 'application/x-www-form-urlencoded',
    ...opts,
  });
}

let tsSeq = 0;
export const slackTs = () => `${nowSeconds()}.${String(++tsSeq).padStart(6, '0')}`;

export interface Workspace {
  teamId: string;
  botUserId: string;
  botToken: string;
}

/** An app_mention (in a channel) or a DM, wrapped as Slack's event_callback. */
export function eventEnvelope(
  ws: Workspace,
  e: { user: string; text: string; channel?: string; ts?: string; thread_ts?: string; type?: 'app_mention' | 'message'; eventId?: string; extra?: Record<string, unknown> },
) {
  const type = e.type ?? 'app_mention';
  const channel = e.channel ?? (type === 'message' ? 'D' : 'C') + 'CHAN0001';
  return {
    token: 'legacy-verification-token',
    team_id: ws.teamId,
    api_app_id: 'A0FAKEAPP',
    type: 'event_callback',
    event_id: e.eventId ?? randomId('Ev', 10),
    event_time: nowSeconds(),
    event: {
      type,
      user: e.user,
      text: e.text,
      ts: e.ts ?? slackTs(),
      ...(e.thread_ts ? { thread_ts: e.thread_ts } : {}),
      channel,
      ...(type === 'message' ? { channel_type: 'im' } : {}),
      event_ts: e.ts,
      ...(e.extra ?? {}),
    },
  };
}

/** The admin installs the app through the real OAuth v2 flow (install → Slack → callback). */
export async function installSlack(fake: FakeSlack, team: Team, ws: Partial<Workspace> = {}): Promise<Workspace & { installResponse: Response }> {
  const w: Workspace = { teamId: ws.teamId ?? randomId('T'), botUserId: ws.botUserId ?? randomId('UBOT'), botToken: ws.botToken ?? `xoxb-${randomId('', 20)}` };
  const start = await app().request('/api/channels/slack/install', { headers: { authorization: `Bearer ${team.token}` } });
  expect(start.status).toBe(302);
  const location = new URL(start.headers.get('location')!);
  const state = location.searchParams.get('state')!;
  const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
  const code = randomId('code-', 12);
  fake.addOAuthCode(code, { teamId: w.teamId, teamName: 'Acme ' + w.teamId, botUserId: w.botUserId, botToken: w.botToken });
  const installResponse = await app().request(`/api/channels/slack/oauth/callback?code=${code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
  return { ...w, installResponse };
}
