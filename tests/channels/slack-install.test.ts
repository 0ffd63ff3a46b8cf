// Installing Slack into a team through OAuth v2 against the fake Slack: the admin-only start, the signed
// state bound to the admin's browser, the code exchange, the bot token encrypted at rest, one workspace
// per team, and the admin routes scoped to the caller's tenant.
import { afterAll, describe, expect, it } from 'vitest';
import { decryptSecret } from '../../src/channels/shared/secret-box.js';
import { startFakeSlack } from '../support/fake-slack-server.js';
import { app, call, signupTeam, useTestApp } from '../support/harness.js';
import { installSlack, slackEnv } from './slack-support.js';
import { addMember, randomId, rows } from './support.js';

const slack = await startFakeSlack();
useTestApp(slackEnv(slack));
afterAll(() => slack.close());

async function startInstall(token: string) {
  const res = await app().request('/api/channels/slack/install', { headers: { authorization: `Bearer ${token}` } });
  const location = res.headers.get('location');
  return { res, location: location ? new URL(location) : undefined, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

const callback = (query: Record<string, string>, cookie?: string) =>
  app().request(`/api/channels/slack/oauth/callback?${new URLSearchParams(query)}`, { headers: cookie ? { cookie } : {} });

describe('Slack OAuth v2 install', () => {
  it('redirects an admin to Slack with the bot scopes and a signed state, then stores the encrypted token', async () => {
    const team = await signupTeam();
    const { res, location, cookie } = await startInstall(team.token);
    expect(res.status).toBe(302);
    expect(location!.toString().startsWith(slack.url.replace(/api\/$/, 'oauth/v2/authorize'))).toBe(true);
    expect(location!.searchParams.get('client_id')).toBe(slack.clientId);
    expect(location!.searchParams.get('scope')!.split(',')).toEqual(expect.arrayContaining(['app_mentions:read', 'chat:write', 'im:history', 'users:read.email']));
    expect(location!.searchParams.get('redirect_uri')).toBe('http://flowspark.test/api/channels/slack/oauth/callback');
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(res.headers.get('set-cookie')).toMatch(/SameSite=Lax/i);

    const botToken = `xoxb-${randomId('', 24)}`;
    const teamId = randomId('T');
    slack.addOAuthCode('code-ok-' + teamId, { teamId, teamName: 'Acme', botUserId: 'UBOT1', botToken });
    const done = await callback({ code: 'code-ok-' + teamId, state: location!.searchParams.get('state')! }, cookie);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Acme');
    const exchange = slack.callsTo('oauth.v2.access').at(-1)!;
    expect(exchange.body).toMatchObject({ code: 'code-ok-' + teamId, redirect_uri: 'http://flowspark.test/api/channels/slack/oauth/callback' });

    const [row] = await rows<{ tenant_id: string; team_id: string; bot_user_id: string; bot_token_encrypted: string; scopes: string[]; installed_by_id: string }>(
      'SELECT * FROM channels_slack_installation WHERE team_id = :teamId',
      { teamId },
    );
    expect(row).toMatchObject({ tenant_id: team.tenantId, team_id: teamId, bot_user_id: 'UBOT1', installed_by_id: team.userId });
    expect(row!.scopes).toContain('chat:write');
    // Encrypted at rest: the column holds no trace of the token, yet decrypts to it.
    expect(row!.bot_token_encrypted).not.toContain(botToken);
    expect(row!.bot_token_encrypted).not.toContain(botToken.slice(5, 15));
    expect(row!.bot_token_encrypted).toMatch(/^v1\./);
    expect(decryptSecret(row!.bot_token_encrypted, 'slack-bot-token')).toBe(botToken);

    const audit = await rows<{ action: string; user_id: string }>('SELECT action, user_id FROM audit_log WHERE tenant_id = :t AND action LIKE :a', { t: team.tenantId, a: 'slack.%' });
    expect(audit).toEqual([{ action: 'slack.installed', user_id: team.userId }]);

    const listed = await call('GET', '/api/channels/slack/installations', { token: team.token });
    expect(listed.status).toBe(200);
    expect(listed.body.installations).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain('xoxb');
  });

  it('refuses a member, and a callback from another browser, a forged or reused state', async () => {
    const team = await signupTeam();
    const member = await addMember(team);
    const refused = await startInstall(member.token);
    expect(refused.res.status).toBe(403);

    const { location, cookie } = await startInstall(team.token);
    const state = location!.searchParams.get('state')!;
    const teamId = randomId('T');
    slack.addOAuthCode('code-a-' + teamId, { teamId, botUserId: 'UB', botToken: 'xoxb-a-' + teamId });

    const noCookie = await callback({ code: 'code-a-' + teamId, state });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.get('x-error-code')).toBe('oauth_state_mismatch');

    const [payload, sig] = state.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), t: randomId('x') })).toString('base64url');
    const forged = await callback({ code: 'code-a-' + teamId, state: `${forgedPayload}.${sig}` }, cookie);
    expect(forged.status).toBe(400);
    expect(forged.headers.get('x-error-code')).toBe('invalid_oauth_state');

    const cancelled = await callback({ error: 'access_denied', state }, cookie);
    expect(cancelled.status).toBe(400);

    const ok = await callback({ code: 'code-a-' + teamId, state }, cookie);
    expect(ok.status).toBe(200);
    slack.addOAuthCode('code-b-' + teamId, { teamId, botUserId: 'UB', botToken: 'xoxb-b-' + teamId });
    const reused = await callback({ code: 'code-b-' + teamId, state }, cookie);
    expect(reused.status).toBe(400);
    expect(reused.headers.get('x-error-code')).toBe('invalid_oauth_state');
    expect(await rows('SELECT id FROM channels_slack_installation WHERE team_id = :teamId', { teamId })).toHaveLength(1);
  });

  it('refuses to connect a workspace another team already has, and keeps admin routes to the caller’s team', async () => {
    const a = await signupTeam();
    const b = await signupTeam();
    const ws = await installSlack(slack, a);
    expect(ws.installResponse.status).toBe(200);
    const taken = await installSlack(slack, b, { teamId: ws.teamId });
    expect(taken.installResponse.status).toBe(409);
    expect(taken.installResponse.headers.get('x-error-code')).toBe('slack_workspace_taken');
    const [row] = await rows<{ tenant_id: string; bot_token_encrypted: string }>('SELECT tenant_id, bot_token_encrypted FROM channels_slack_installation WHERE team_id = :t', { t: ws.teamId });
    expect(row!.tenant_id).toBe(a.tenantId);
    expect(decryptSecret(row!.bot_token_encrypted, 'slack-bot-token')).toBe(ws.botToken);

    // Reinstalling into the same team rotates the token in place.
    const again = await installSlack(slack, a, { teamId: ws.teamId, botUserId: ws.botUserId });
    expect(again.installResponse.status).toBe(200);
    const [rotated] = await rows<{ bot_token_encrypted: string }>('SELECT bot_token_encrypted FROM channels_slack_installation WHERE team_id = :t', { t: ws.teamId });
    expect(decryptSecret(rotated!.bot_token_encrypted, 'slack-bot-token')).toBe(again.botToken);

    const { id } = (await call('GET', '/api/channels/slack/installations', { token: a.token })).body.installations[0];
    expect((await call('GET', '/api/channels/slack/installations', { token: b.token })).body.installations).toEqual([]);
    expect((await call('DELETE', `/api/channels/slack/installations/${id}`, { token: b.token })).status).toBe(404);
    expect((await call('DELETE', `/api/channels/slack/installations/${id}`, { token: a.token })).status).toBe(200);
    expect(await rows('SELECT id FROM channels_slack_installation WHERE team_id = :t', { t: ws.teamId })).toHaveLength(0);
  });
});
