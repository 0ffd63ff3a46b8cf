// The Teams bot end to end against a local fake of Microsoft's side: activity tokens signed with an RSA
// key the fake publishes through OpenID metadata + JWKS and checked for real (issuer, audience, expiry,
// key, serviceUrl), the client-credentials bot token, the members lookup that maps a sender by email,
// replies posted to the activity's serviceUrl, Adaptive Card approvals, the admin registration of an Entra
// tenant — asserted on what the connector received and on what was stored and charged.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setPreference } from '../../src/agents/preferences.js';
import { backgroundIdle } from '../../src/channels/shared/background.js';
import { resetTeamsToken } from '../../src/channels/teams/connector.js';
import { resetBotFrameworkKeys } from '../../src/channels/teams/jwt.js';
import { startFakeTeams } from '../support/fake-teams-server.js';
import { app, call, signupTeam, uniqueEmail, useTestApp, type Team } from '../support/harness.js';
import { addMember, fastRetries, footprint, randomId, rows, storedMessages } from './support.js';

const APP_ID = randomUUID();
const teams = await startFakeTeams({ appId: APP_ID, appPassword: 'fake-app-password' });
useTestApp({
  TEAMS_APP_ID: APP_ID,
  TEAMS_APP_PASSWORD: 'fake-app-password',
  TEAMS_OPENID_METADATA_URL: teams.metadataUrl,
  TEAMS_LOGIN_URL: teams.loginUrl,
});
afterAll(() => teams.close());
beforeAll(() => {
  fastRetries();
  resetBotFrameworkKeys();
  resetTeamsToken();
});

interface Setup {
  team: Team;
  entraTenantId: string;
  userId: string;
  conversationId: string;
}

/** A team whose Entra tenant is registered, with its owner as a Teams user in a personal chat. */
async function setup(): Promise<Setup> {
  const team = await signupTeam();
  const entraTenantId = randomUUID();
  const reg = await call('POST', '/api/channels/teams/registrations', { token: team.token, json: { entraTenantId } });
  expect(reg.status).toBe(201);
  const userId = `29:${randomId('user', 12)}`;
  const conversationId = `a:${randomId('personal', 20)}`;
  teams.addMember(conversationId, { id: userId, name: 'Owner', aadObjectId: randomUUID(), email: team.email, userPrincipalName: team.email });
  return { team, entraTenantId, userId, conversationId };
}

function activity(s: Setup, o: { text?: string; value?: unknown; id?: string; conversationId?: string; conversationType?: string; from?: string; replyToId?: string; entities?: unknown[]; entra?: string } = {}) {
  return {
    type: 'message',
    id: o.id ?? randomId('act', 12),
    timestamp: new Date().toISOString(),
    serviceUrl: teams.serviceUrl,
    channelId: 'msteams',
    from: { id: o.from ?? s.userId, name: 'Owner', aadObjectId: randomUUID() },
    conversation: { id: o.conversationId ?? s.conversationId, conversationType: o.conversationType ?? 'personal', tenantId: o.entra ?? s.entraTenantId },
    recipient: { id: `28:${APP_ID}`, name: 'FlowSpark' },
    textFormat: 'plain',
    locale: 'en-US',
    ...(o.text !== undefined ? { text: o.text } : {}),
    ...(o.value !== undefined ? { value: o.value } : {}),
    ...(o.replyToId ? { replyToId: o.replyToId } : {}),
    ...(o.entities ? { entities: o.entities } : {}),
    channelData: { tenant: { id: o.entra ?? s.entraTenantId } },
  };
}

async function post(body: unknown, token?: string | null) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const t = token === undefined ? await teams.sign() : token;
  if (t) headers.authorization = `Bearer ${t}`;
  return app().request('/api/channels/teams/messages', { method: 'POST', headers, body: JSON.stringify(body) });
}

const repliesTo = (conversationId: string) => teams.activities().filter((c) => c.path.includes(encodeURIComponent(conversationId)) || c.path.includes(conversationId));

let s: Setup;
beforeEach(async () => {
  teams.clearFailures();
  s = await setup();
});

describe('Bot Framework token validation', () => {
  const cases: [string, () => Promise<string | null>, RegExp][] = [
    ['no token', async () => null, /bearer token is required/],
    ['wrong audience', () => teams.sign({}, { audience: randomUUID() }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['wrong issuer', () => teams.sign({}, { issuer: 'https://sts.windows.net/evil/' }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['expired beyond the clock skew', () => teams.sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 600 }), /ERR_JWT_EXPIRED/],
    ['not valid yet', () => teams.sign({}, { notBefore: Math.floor(Date.now() / 1000) + 900 }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ['signed with an unpublished key', () => teams.sign({}, { key: 'unknown' }), /ERR_JWKS_NO_MATCHING_KEY/],
    ['issued for another serviceUrl', () => teams.sign({ serviceurl: 'https://smba.evil.example/' }), /serviceUrl does not match/],
    ['a garbage token', async () => 'not.a.jwt', /refused/],
  ];
  it.each(cases)('refuses %s with 401 and does nothing', async (_name, token, reason) => {
    const res = await post(activity(s, { text: 'remember that my tone is formal' }), await token());
    expect(res.status).toBe(401);
    const { error } = await res.json();
    expect(error.code).toBe('invalid_token');
    expect(error.message).toMatch(reason);
    await backgroundIdle();
    expect(repliesTo(s.conversationId)).toHaveLength(0);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
  });

  it('accepts a token within the clock skew', async () => {
    const res = await post(activity(s, { text: 'hi' }), await teams.sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 }));
    expect(res.status).toBe(200);
    await backgroundIdle();
  });

  it('refuses an HS256 token even if it names a known key id', async () => {
    const { SignJWT } = await import('jose');
    const forged = await new SignJWT({ serviceurl: teams.serviceUrl })
      .setProtectedHeader({ alg: 'HS256', kid: 'fake-key-1' })
      .setIssuer('https://api.botframework.com')
      .setAudience(APP_ID)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await post(activity(s, { text: 'hi' }), forged)).status).toBe(401);
  });
});

describe('messages', () => {
  it('answers a personal message with a reply posted to the serviceUrl, as the mapped user', async () => {
    const a = activity(s, { text: 'remember that my tone is formal' });
    const res = await post(a);
    expect(res.status).toBe(200);
    await backgroundIdle();

    const member = teams.calls.find((c) => c.method === 'GET' && c.path === `/service/v3/conversations/${s.conversationId}/members/${s.userId}`);
    expect(member?.token).toMatch(/^bot-token-/);
    const replies = repliesTo(s.conversationId);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.method).toBe('POST');
    expect(replies[0]!.path).toBe(`/service/v3/conversations/${s.conversationId}/activities/${a.id}`);
    expect(replies[0]!.token).toMatch(/^bot-token-/);
    expect(replies[0]!.body).toMatchObject({ type: 'message', replyToId: a.id });
    expect(replies[0]!.body.text).toContain("I'll remember your tone: formal.");
    expect(teams.tokenRequests.at(-1)).toMatchObject({ grant_type: 'client_credentials', client_id: APP_ID, scope: 'https://api.botframework.com/.default' });

    const [conv] = await rows('SELECT channel, user_id FROM agents_conversation WHERE tenant_id = :t', { t: s.team.tenantId });
    expect(conv).toEqual({ channel: 'teams', user_id: s.team.userId });
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, usage: 1, debits: 1 });

    // The next message continues the same conversation, reusing the cached bot token.
    const tokensBefore = teams.tokenRequests.length;
    await post(activity(s, { text: 'what do you remember about me?' }));
    await backgroundIdle();
    expect(teams.tokenRequests.length).toBe(tokensBefore);
    expect(repliesTo(s.conversationId).at(-1)!.body.text).toContain('tone: formal');
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 4, debits: 2 });
  });

  it('strips the bot @mention from a channel message', async () => {
    const channelConv = `19:${randomId('chan', 16)}@thread.tacv2;messageid=${Date.now()}`;
    teams.addMember(channelConv, { id: s.userId, userPrincipalName: s.team.email.toUpperCase() });
    const a = activity(s, {
      conversationId: channelConv,
      conversationType: 'channel',
      text: '<at>FlowSpark</at> remember that my tone is formal',
      entities: [{ type: 'mention', text: '<at>FlowSpark</at>', mentioned: { id: `28:${APP_ID}`, name: 'FlowSpark' } }],
    });
    await post(a);
    await backgroundIdle();
    expect((await storedMessages(s.team.tenantId))[0]!.data.parts[0].text).toBe('remember that my tone is formal');
    expect(repliesTo(channelConv)).toHaveLength(1);
    expect(repliesTo(channelConv)[0]!.body.text).toContain("I'll remember your tone: formal.");
  });

  it('deduplicates a redelivered activity: one turn, one reply, one charge', async () => {
    const a = activity(s, { text: 'what do you remember about me?' });
    for (let i = 0; i < 3; i++) expect((await post(a)).status).toBe(200);
    await backgroundIdle();
    expect(repliesTo(s.conversationId)).toHaveLength(1);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 1 });
  });

  it('tells an unmapped user and an unregistered organisation what to do, and starts no turn', async () => {
    const strangerId = `29:${randomId('stranger', 10)}`;
    teams.addMember(s.conversationId, { id: strangerId, email: uniqueEmail('stranger') });
    await post(activity(s, { text: 'hello', from: strangerId }));
    const otherOrg = activity(s, { text: 'hello', entra: randomUUID() });
    await post(otherOrg);
    await backgroundIdle();
    const replies = repliesTo(s.conversationId).map((r) => r.body.text as string);
    expect(replies.some((t) => /couldn't match your Microsoft account/.test(t))).toBe(true);
    expect(replies.some((t) => /isn't connected to FlowSpark/.test(t))).toBe(true);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, messages: 0, usage: 0, debits: 0 });
  });
});

describe('approvals as Adaptive Cards', () => {
  it('sends Approve/Deny buttons; the submit continues the turn and replaces the card', async () => {
    await setPreference(s.team.auth, 'tone', 'formal');
    await post(activity(s, { text: 'forget my tone preference' }));
    await backgroundIdle();
    const asked = repliesTo(s.conversationId).at(-1)!.body;
    expect(asked.text).toContain('Waiting for your approval');
    const card = asked.attachments[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const approve = card.content.actions.find((x: any) => x.title === 'Approve');
    expect(approve.type).toBe('Action.Submit');

    const cardActivityId = 'reply-card-1';
    const submit = activity(s, { value: approve.data, replyToId: cardActivityId });
    await post(submit);
    await backgroundIdle();
    const after = repliesTo(s.conversationId);
    const update = after.find((c) => c.method === 'PUT');
    expect(update!.path).toBe(`/service/v3/conversations/${s.conversationId}/activities/${cardActivityId}`);
    expect(update!.body.attachments).toBeUndefined();
    const final = after.at(-1)!;
    expect(final.path).toBe(`/service/v3/conversations/${s.conversationId}/activities/${submit.id}`);
    expect(final.body.text).toContain('Approved');
    expect(final.body.text).toContain("I've forgotten your tone preference.");
    const tools = await rows<{ state: string }>(`SELECT data->>'state' AS state FROM agents_interaction WHERE tenant_id = :t AND interaction_type = 'tool_call' ORDER BY created_at`, { t: s.team.tenantId });
    expect(tools.map((t) => t.state)).toEqual(['output-available']); // one row per tool call, final state
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, debits: 2 });

    // Submitting again (a new activity id) starts nothing.
    await post(activity(s, { value: approve.data, replyToId: cardActivityId }));
    await backgroundIdle();
    expect(repliesTo(s.conversationId).at(-1)!.body.text).toMatch(/no tool call waiting/i);
    expect(await footprint(s.team.tenantId)).toMatchObject({ debits: 2, toolCalls: 1 });
  });

  it('refuses an approval from someone else in the chat', async () => {
    await setPreference(s.team.auth, 'tone', 'formal');
    await post(activity(s, { text: 'forget my tone preference' }));
    await backgroundIdle();
    const deny = repliesTo(s.conversationId).at(-1)!.body.attachments[0].content.actions[1];
    const colleague = await addMember(s.team);
    const colleagueId = `29:${randomId('colleague', 10)}`;
    teams.addMember(s.conversationId, { id: colleagueId, email: colleague.email });
    await post(activity(s, { value: deny.data, from: colleagueId }));
    await backgroundIdle();
    expect(repliesTo(s.conversationId).at(-1)!.body.text).toMatch(/only the person who asked/i);
    expect(await footprint(s.team.tenantId)).toMatchObject({ debits: 1, toolCalls: 1 });
  });
});

describe('Teams failing while we reply', () => {
  it('retries a failed reply and a failed token request, never the turn', async () => {
    resetTeamsToken();
    teams.failNext('/token', 503, 1);
    teams.failNext(`/activities/`, 502, 2);
    await post(activity(s, { text: 'remember that my tone is formal' }));
    await backgroundIdle();
    const posts = repliesTo(s.conversationId).filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(3);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 1 });
  });

  it('keeps the single stored turn when the reply can never be posted', async () => {
    teams.failNext(`/activities/`, 500, 20);
    await post(activity(s, { text: 'remember that my tone is formal' }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 1 });
  });

  it('starts no turn when the sender cannot be looked up', async () => {
    teams.failNext('/members/', 500, 10);
    await post(activity(s, { text: 'remember that my tone is formal' }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
  });
});

describe('registrations', () => {
  it('is admin-only, one team per Entra tenant, and scoped to the caller’s team', async () => {
    const member = await addMember(s.team);
    expect((await call('POST', '/api/channels/teams/registrations', { token: member.token, json: { entraTenantId: randomUUID() } })).status).toBe(403);
    expect((await call('POST', '/api/channels/teams/registrations', { token: s.team.token, json: { entraTenantId: 'not-a-guid' } })).status).toBe(400);
    const other = await signupTeam();
    const taken = await call('POST', '/api/channels/teams/registrations', { token: other.token, json: { entraTenantId: s.entraTenantId } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('teams_tenant_taken');
    const mine = await call('GET', '/api/channels/teams/registrations', { token: s.team.token });
    expect(mine.body.registrations).toHaveLength(1);
    expect((await call('GET', '/api/channels/teams/registrations', { token: other.token })).body.registrations).toEqual([]);
    const id = mine.body.registrations[0].id;
    expect((await call('DELETE', `/api/channels/teams/registrations/${id}`, { token: other.token })).status).toBe(404);
    expect((await call('DELETE', `/api/channels/teams/registrations/${id}`, { token: s.team.token })).status).toBe(200);
  });
});
