// The Slack bot end to end against a local fake Slack API: real request signing, the Events API
// (url_verification, mentions, DMs, threads, retries and duplicates), streaming the answer of the offline
// model into the posted message, approvals through the interactivity endpoint, user mapping by email,
// and Slack failing while we reply — asserted on what Slack received and on what was stored and charged.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { setPreference } from '../../src/agents/preferences.js';
import { setChatModelOverride } from '../../src/agents/provider.js';
import { debitTokens, getBalance } from '../../src/billing/ledger.js';
import { slackReplyTuning } from '../../src/channels/slack/reply.js';
import { backgroundIdle } from '../../src/channels/shared/background.js';
import { startFakeSlack } from '../support/fake-slack-server.js';
import { signupTeam, uniqueEmail, useTestApp, type Team } from '../support/harness.js';
import { eventEnvelope, installSlack, nowSeconds, postEvent, postInteraction, signedPost, SIGNING_SECRET, slackEnv, type Workspace } from './slack-support.js';
import { addMember, fastRetries, footprint, randomId, rows, storedMessages } from './support.js';

const slack = await startFakeSlack();
useTestApp(slackEnv(slack));
afterAll(() => slack.close());
beforeAll(fastRetries);

interface Setup {
  team: Team;
  ws: Workspace;
  slackUser: string;
}

/** A team with Slack installed and its owner known to Slack by the same email. */
async function setup(): Promise<Setup> {
  const team = await signupTeam();
  const ws = await installSlack(slack, team);
  const slackUser = randomId('U');
  slack.addUser(ws.teamId, { id: slackUser, email: team.email.toUpperCase() });
  return { team, ws, slackUser };
}

const callsFor = (method: string, ws: Workspace) => slack.callsTo(method).filter((c) => c.token === ws.botToken);
const lastUpdate = (ws: Workspace) => callsFor('chat.update', ws).at(-1)?.body;

let s: Setup;
beforeEach(async () => {
  slack.clearFailures();
  s = await setup();
});

describe('request verification', () => {
  it('answers url_verification with its challenge', async () => {
    const res = await postEvent({ type: 'url_verification', token: 'x', challenge: 'chal-123' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'chal-123' });
  });

  it('refuses a bad, missing or foreign signature with 401 and starts nothing', async () => {
    const body = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` });
    const forged = await postEvent(body, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.code).toBe('invalid_signature');
    const missing = await postEvent(body, { signature: '' });
    expect(missing.status).toBe(401);
    // A body altered after signing.
    const raw = JSON.stringify(body);
    const ts = nowSeconds();
    const { slackSignature } = await import('../../src/channels/slack/signature.js');
    const tampered = await signedPost('/api/channels/slack/events', raw.replace('formal', 'casual'), { ts, signature: slackSignature(SIGNING_SECRET, String(ts), raw) });
    expect(tampered.status).toBe(401);
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(0);
  });

  it('refuses a stale or future timestamp (replay) with 401 stale_request, even when correctly signed', async () => {
    const body = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> hello` });
    const old = await postEvent(body, { ts: nowSeconds() - 301 });
    expect(old.status).toBe(401);
    expect((await old.json()).error.code).toBe('stale_request');
    const future = await postEvent(body, { ts: nowSeconds() + 400 });
    expect(future.status).toBe(401);
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
  });
});

describe('mentions and direct messages', () => {
  it('acknowledges at once, then posts a reply in the thread and updates it with the answer', async () => {
    slack.failNext('users.info', { delayMs: 1200 }); // a slow Slack must not delay the acknowledgement
    const body = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` });
    const started = Date.now();
    const res = await postEvent(body);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(0);

    await backgroundIdle();
    const posted = callsFor('chat.postMessage', s.ws);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.body).toMatchObject({ channel: body.event.channel, thread_ts: body.event.ts, text: '_Thinking…_' });
    expect(lastUpdate(s.ws)).toMatchObject({ channel: body.event.channel });
    expect(lastUpdate(s.ws)!.text).toContain("I'll remember your tone: formal.");
    expect(lastUpdate(s.ws)!.text).toContain('Remember a preference');

    const [conversation] = await rows('SELECT channel, external_id FROM agents_conversation WHERE tenant_id = :t', { t: s.team.tenantId });
    expect(conversation).toEqual({ channel: 'slack', external_id: `${s.ws.teamId}:${body.event.channel}:${body.event.ts}` });
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, usage: 1, debits: 1 });
    // The model saw the question without the mention.
    expect((await storedMessages(s.team.tenantId))[0]!.data.parts[0].text).toBe('remember that my tone is formal');
  });

  it('deduplicates Slack retries and duplicate deliveries: one turn, one charge', async () => {
    const body = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> what do you remember about me?` });
    expect((await postEvent(body)).status).toBe(200);
    for (const n of ['1', '2']) expect((await postEvent(body, { headers: { 'x-slack-retry-num': n, 'x-slack-retry-reason': 'http_timeout' } })).status).toBe(200);
    // The same message delivered under another event id (e.g. as a second event type).
    expect((await postEvent({ ...body, event_id: randomId('Ev', 10) })).status).toBe(200);
    await backgroundIdle();
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(1);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, usage: 1, debits: 1 });
  });

  it('keeps one conversation per thread, and answers direct messages', async () => {
    const first = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` });
    await postEvent(first);
    await backgroundIdle();
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> what do you remember about me?`, thread_ts: first.event.ts }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 4, debits: 2 });
    expect(lastUpdate(s.ws)!.text).toContain('tone: formal');
    expect(callsFor('chat.postMessage', s.ws).map((c) => c.body.thread_ts)).toEqual([first.event.ts, first.event.ts]);

    const dm = eventEnvelope(s.ws, { type: 'message', user: s.slackUser, text: 'what do you remember about me?' });
    await postEvent(dm);
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 2, debits: 3 });
    expect(callsFor('chat.postMessage', s.ws).at(-1)!.body).toMatchObject({ channel: dm.event.channel, thread_ts: dm.event.ts });
  });

  it('gives another person in the thread their own conversation', async () => {
    const colleague = await addMember(s.team);
    const colleagueSlack = randomId('U');
    slack.addUser(s.ws.teamId, { id: colleagueSlack, email: colleague.email });
    const first = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` });
    await postEvent(first);
    await backgroundIdle();
    await postEvent(eventEnvelope(s.ws, { user: colleagueSlack, text: `<@${s.ws.botUserId}> what do you remember about me?`, thread_ts: first.event.ts }));
    await backgroundIdle();
    const convs = await rows<{ user_id: string }>('SELECT user_id FROM agents_conversation WHERE tenant_id = :t ORDER BY created_at', { t: s.team.tenantId });
    expect(convs.map((c) => c.user_id)).toEqual([s.team.userId, colleague.userId]);
    expect(lastUpdate(s.ws)!.text).toContain('nothing remembered'); // the colleague's memory, not the owner's
  });

  it('ignores bot messages, edits, its own messages and channel chatter', async () => {
    const ignored = [
      eventEnvelope(s.ws, { type: 'message', user: s.slackUser, text: 'hi', extra: { bot_id: 'B123' } }),
      eventEnvelope(s.ws, { type: 'message', user: s.slackUser, text: 'hi', extra: { subtype: 'message_changed' } }),
      eventEnvelope(s.ws, { type: 'message', user: s.ws.botUserId, text: 'my own reply' }),
      { ...eventEnvelope(s.ws, { type: 'message', user: s.slackUser, text: 'hi' }), event: { type: 'message', user: s.slackUser, text: 'hi', ts: '1.1', channel: 'C1', channel_type: 'channel' } },
      eventEnvelope(s.ws, { user: s.slackUser, text: 'reaction', type: 'reaction_added' as never }),
    ];
    for (const e of ignored) expect((await postEvent(e)).status).toBe(200);
    await backgroundIdle();
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(0);
    expect(callsFor('users.info', s.ws)).toHaveLength(0);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
  });
});

describe('streaming', () => {
  it('edits the posted message as the reply grows, at a bounded rate, and once more at the end', async () => {
    const words = Array.from({ length: 24 }, (_, i) => `word${i} `);
    setChatModelOverride(
      new MockLanguageModelV3({
        modelId: 'slow-mock',
        doStream: async () => ({
          stream: simulateReadableStream({
            chunkDelayInMs: 25,
            chunks: [
              { type: 'stream-start', warnings: [] },
              { type: 'text-start', id: 't1' },
              ...words.map((delta) => ({ type: 'text-delta' as const, id: 't1', delta })),
              { type: 'text-end', id: 't1' },
              { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: { inputTokens: { total: 40, noCache: 40, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 24, text: 24, reasoning: undefined } } },
            ],
          }),
        }),
      }),
    );
    const interval = slackReplyTuning.updateIntervalMs;
    slackReplyTuning.updateIntervalMs = 150;
    const seen = slack.calls.length;
    try {
      await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> tell me something long` }));
      await backgroundIdle();
    } finally {
      setChatModelOverride(undefined);
      slackReplyTuning.updateIntervalMs = interval;
    }
    const updates = callsFor('chat.update', s.ws);
    expect(updates.length).toBeGreaterThanOrEqual(3); // progress, then the final edit
    expect(updates.length).toBeLessThanOrEqual(8); // ~650 ms of streaming at one edit per 150 ms, not one per word
    const texts = updates.map((u) => u.body.text as string);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.replace(/_Thinking…_/, '').length).toBeGreaterThanOrEqual(texts[i - 1]!.replace(/_Thinking…_/, '').length);
    expect(texts.at(-1)).toBe(words.join('').trim());
    expect(slack.calls.slice(seen).filter((c) => c.method === 'chat.postMessage' && c.token === s.ws.botToken)).toHaveLength(1);
    // Progress edits are spaced by the interval (the final edit may follow the last one sooner).
    const gaps = updates.slice(0, -1).map((u, i, a) => (i ? u.at - a[i - 1]!.at : Infinity));
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(130);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, debits: 1 });
    const [debit] = await rows<{ amount: number }>('SELECT amount FROM billing_token_transaction WHERE tenant_id = :t AND amount < 0', { t: s.team.tenantId });
    expect(Number(debit!.amount)).toBe(-64);
  });
});

describe('people and workspaces we do not know', () => {
  it('tells an unmapped Slack user to ask an admin, privately, and starts no turn', async () => {
    const stranger = randomId('U');
    slack.addUser(s.ws.teamId, { id: stranger, email: uniqueEmail('stranger') });
    await postEvent(eventEnvelope(s.ws, { user: stranger, text: `<@${s.ws.botUserId}> hello` }));
    await backgroundIdle();
    const eph = callsFor('chat.postEphemeral', s.ws);
    expect(eph).toHaveLength(1);
    expect(eph[0]!.body).toMatchObject({ user: stranger });
    expect(eph[0]!.body.text).toMatch(/ask a FlowSpark admin/i);
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(0);
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, messages: 0, usage: 0, debits: 0 });
  });

  it('does not map a Slack user whose email Slack has not confirmed, nor a deactivated user', async () => {
    const member = await addMember(s.team);
    const unconfirmed = randomId('U');
    slack.addUser(s.ws.teamId, { id: unconfirmed, email: member.email, is_email_confirmed: false });
    await postEvent(eventEnvelope(s.ws, { user: unconfirmed, text: `<@${s.ws.botUserId}> hello` }));
    const former = await addMember(s.team);
    await rows('UPDATE core_user SET is_active = false WHERE id = :id AND tenant_id = :t', { id: former.userId, t: s.team.tenantId });
    const formerSlack = randomId('U');
    slack.addUser(s.ws.teamId, { id: formerSlack, email: former.email });
    await postEvent(eventEnvelope(s.ws, { user: formerSlack, text: `<@${s.ws.botUserId}> hello` }));
    await backgroundIdle();
    expect(callsFor('chat.postEphemeral', s.ws).map((c) => c.body.user).sort()).toEqual([unconfirmed, formerSlack].sort());
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, debits: 0 });
  });

  it('tells the user when the team has no tokens left, and charges nothing', async () => {
    await debitTokens({ tenantId: s.team.tenantId, tokens: await getBalance(s.team.tenantId), operation: 'test_drain', clampToBalance: true });
    const before = await footprint(s.team.tenantId);
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` }));
    await backgroundIdle();
    expect(lastUpdate(s.ws)!.text).toMatch(/^:warning: /);
    expect(lastUpdate(s.ws)!.text).toMatch(/token/i);
    expect(await footprint(s.team.tenantId)).toEqual(before);
  });

  it('acknowledges and ignores events from a workspace with no installation', async () => {
    const unknown: Workspace = { teamId: randomId('T'), botUserId: 'UNOBODY', botToken: 'xoxb-none' };
    const before = slack.calls.length;
    const res = await postEvent(eventEnvelope(unknown, { user: 'U1', text: '<@UNOBODY> hello' }));
    expect(res.status).toBe(200);
    await backgroundIdle();
    expect(slack.calls.length).toBe(before);
  });
});

describe('approvals through interactivity', () => {
  async function askToForget() {
    await setPreference(s.team.auth, 'tone', 'formal');
    const body = eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> forget my tone preference` });
    await postEvent(body);
    await backgroundIdle();
    const update = lastUpdate(s.ws)!;
    const actions = (update.blocks as any[]).find((b) => b.type === 'actions');
    expect(actions).toBeTruthy();
    const [approve, deny] = actions.elements;
    expect(approve.action_id).toBe('fs_approval_approve');
    return { body, update, approve, deny };
  }

  const clickPayload = (user: string, button: any, channel: string, ts: string, threadTs: string) => ({
    type: 'block_actions',
    team: { id: s.ws.teamId, domain: 'acme' },
    user: { id: user, team_id: s.ws.teamId },
    api_app_id: 'A0FAKEAPP',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false, thread_ts: threadTs },
    channel: { id: channel },
    message: { ts, thread_ts: threadTs, text: 'previous' },
    response_url: 'https://hooks.slack.invalid/actions/1',
    actions: [{ action_id: button.action_id, block_id: 'b', value: button.value, type: 'button', action_ts: String(nowSeconds()) }],
  });

  it('shows Approve/Deny buttons, and the click continues the turn in the same message', async () => {
    const { body, update, approve } = await askToForget();
    expect(update.text).toContain('Waiting for your approval');
    const before = await footprint(s.team.tenantId);
    expect(before).toMatchObject({ conversations: 1, debits: 1 });

    const res = await postInteraction(clickPayload(s.slackUser, approve, body.event.channel, update.ts, body.event.ts));
    expect(res.status).toBe(200);
    await backgroundIdle();
    const final = lastUpdate(s.ws)!;
    expect(final.ts).toBe(update.ts);
    expect(final.text).toContain('approved *Forget a preference*');
    expect(final.text).toContain("I've forgotten your tone preference.");
    expect(final.blocks).toEqual([]);
    const tools = await rows<{ state: string }>(`SELECT data->>'state' AS state FROM agents_interaction WHERE tenant_id = :t AND interaction_type = 'tool_call' ORDER BY created_at`, { t: s.team.tenantId });
    expect(tools.map((t) => t.state)).toEqual(['output-available']); // one row per tool call, final state
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 2 });

    // A second click on the answered request starts nothing.
    await postInteraction(clickPayload(s.slackUser, approve, body.event.channel, update.ts, body.event.ts));
    await backgroundIdle();
    expect(callsFor('chat.postEphemeral', s.ws).at(-1)!.body.text).toMatch(/no tool call waiting|already answered/i);
    expect(await footprint(s.team.tenantId)).toMatchObject({ debits: 2, toolCalls: 1 });
  });

  it('lets only the person who asked answer, and refuses unsigned clicks', async () => {
    const { body, update, deny } = await askToForget();
    const colleague = await addMember(s.team);
    const colleagueSlack = randomId('U');
    slack.addUser(s.ws.teamId, { id: colleagueSlack, email: colleague.email });
    await postInteraction(clickPayload(colleagueSlack, deny, body.event.channel, update.ts, body.event.ts));
    await backgroundIdle();
    expect(callsFor('chat.postEphemeral', s.ws).at(-1)!.body).toMatchObject({ user: colleagueSlack });
    expect(callsFor('chat.postEphemeral', s.ws).at(-1)!.body.text).toMatch(/only the person who asked/i);

    const forged = await postInteraction(clickPayload(s.slackUser, deny, body.event.channel, update.ts, body.event.ts), { secret: 'wrong' });
    expect(forged.status).toBe(401);
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ debits: 1, toolCalls: 1 });

    // The owner denies: the tool does not run.
    await postInteraction(clickPayload(s.slackUser, deny, body.event.channel, update.ts, body.event.ts));
    await backgroundIdle();
    expect(lastUpdate(s.ws)!.text).toContain('denied *Forget a preference*');
    const tools = await rows<{ state: string }>(`SELECT data->>'state' AS state FROM agents_interaction WHERE tenant_id = :t AND interaction_type = 'tool_call' ORDER BY created_at`, { t: s.team.tenantId });
    expect(tools.map((t) => t.state)).toEqual(['output-denied']); // one row per tool call, final state
  });
});

describe('Slack failing while we reply', () => {
  it('retries a failed post with backoff and still runs the turn once', async () => {
    slack.failNext('chat.postMessage', { status: 503 }, 2);
    slack.failNext('chat.update', { status: 429, retryAfter: 0 }, 1);
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` }));
    await backgroundIdle();
    expect(callsFor('chat.postMessage', s.ws)).toHaveLength(3);
    expect(lastUpdate(s.ws)!.text).toContain("I'll remember your tone: formal.");
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 1 });
  });

  it('starts no turn (and charges nothing) when the reply cannot be posted at all', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' }, 1);
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, messages: 0, debits: 0 });
    slack.failNext('chat.postMessage', { drop: true }, 10);
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 0, messages: 0, debits: 0 });
  });

  it('keeps the one stored, charged turn when the final update keeps failing', async () => {
    slack.failNext('chat.update', { status: 500 }, 50);
    await postEvent(eventEnvelope(s.ws, { user: s.slackUser, text: `<@${s.ws.botUserId}> remember that my tone is formal` }));
    await backgroundIdle();
    expect(await footprint(s.team.tenantId)).toMatchObject({ conversations: 1, messages: 2, debits: 1 });
  });
});
