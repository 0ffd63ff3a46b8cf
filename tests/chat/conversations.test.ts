// The REST side of chat: the caller's conversations (list, rename, delete), paging through messages, and
// the preferences the agent remembers — and every attempt on another user's or another team's data
// answered 404 with nothing changed.
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { setChatModelOverride } from '../../src/agents/provider.js';
import { call, signupTeam, useTestApp, type Team } from '../support/harness.js';
import { addMember, chat, mockModel, rows, textOf, textParts, type Person } from './support/chat.js';

useTestApp();
afterEach(() => setChatModelOverride(undefined));

/** A conversation of `who` with `turns` exchanges (the offline model answers). */
async function conversation(who: Team | Person, first: string, turns = 1): Promise<string> {
  const { conversationId } = await chat(who.token, { message: first });
  for (let i = 2; i <= turns; i++) await chat(who.token, { id: conversationId, message: `${first} (message ${i})` });
  return conversationId;
}

describe('conversations', () => {
  it('lists my conversations, most recently active first, with paging', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const a = await conversation(team, 'Alpha launch plan');
    const b = await conversation(team, 'Budget review');
    const c = await conversation(team, 'Customer interviews');
    await conversation(colleague, 'Not yours');
    await chat(team.token, { id: a, message: 'Back to the launch plan' }); // a is now the most recent

    const all = await call('GET', '/api/conversations', { token: team.token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.conversations.map((x: { id: string }) => x.id)).toEqual([a, c, b]);
    expect(all.body.conversations[0]).toMatchObject({ id: a, title: 'Alpha launch plan', channel: 'web', lastMessageAt: expect.any(String) });

    const page = await call('GET', '/api/conversations?limit=2&offset=2', { token: team.token });
    expect(page.body).toMatchObject({ total: 3, conversations: [expect.objectContaining({ id: b })] });
    expect((await call('GET', '/api/conversations?limit=0', { token: team.token })).status).toBe(400);
  });

  it('renames a conversation', async () => {
    const team = await signupTeam();
    const id = await conversation(team, 'Untitled thoughts');
    const renamed = await call('PATCH', `/api/conversations/${id}`, { token: team.token, json: { title: '  Q3 planning  ' } });
    expect(renamed).toMatchObject({ status: 200, body: { id, title: 'Q3 planning' } });
    expect((await call('GET', `/api/conversations/${id}`, { token: team.token })).body.title).toBe('Q3 planning');
    expect((await call('PATCH', `/api/conversations/${id}`, { token: team.token, json: { title: '   ' } })).status).toBe(400);
    expect((await call('GET', `/api/conversations/${id}`, { token: team.token })).body.title).toBe('Q3 planning');
  });

  it('deletes a conversation with its messages, which are no longer recalled', async () => {
    const team = await signupTeam();
    const model = mockModel(textParts('Noted.'), textParts('I do not know.'));
    const id = (await chat(team.token, { message: 'For the record: the Falcon project budget is 42k euros.' })).conversationId;

    const deleted = await call('DELETE', `/api/conversations/${id}`, { token: team.token });
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
    expect((await call('GET', `/api/conversations/${id}`, { token: team.token })).status).toBe(404);
    expect((await call('GET', `/api/conversations/${id}/messages`, { token: team.token })).status).toBe(404);
    expect(await rows(`SELECT id FROM agents_interaction WHERE conversation_id = :id`, { id })).toEqual([]);
    expect((await call('DELETE', `/api/conversations/${id}`, { token: team.token })).status).toBe(404);

    await chat(team.token, { message: 'What is the Falcon project budget?' });
    const system = (model.doStreamCalls[1] as LanguageModelV3CallOptions).prompt.find((m) => m.role === 'system')!.content as string;
    expect(system).not.toContain('42k');
  });

  it('pages through a conversation’s messages, oldest first, with `before` for older pages', async () => {
    const team = await signupTeam();
    const id = await conversation(team, 'Paging test', 3); // 6 messages

    const newest = await call('GET', `/api/conversations/${id}/messages?limit=4`, { token: team.token });
    expect(newest.status).toBe(200);
    expect(newest.body.hasMore).toBe(true);
    expect(newest.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(textOf(newest.body.messages[0])).toBe('Paging test (message 2)');
    expect(newest.body.nextBefore).toBe(newest.body.messages[0].metadata.createdAt);

    const older = await call('GET', `/api/conversations/${id}/messages?limit=4&before=${encodeURIComponent(newest.body.nextBefore)}`, { token: team.token });
    expect(older.body).toMatchObject({ hasMore: false, nextBefore: null });
    expect(older.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(textOf(older.body.messages[0])).toBe('Paging test');
    expect(older.body.messages[1].metadata).toMatchObject({ status: 'complete', model: 'offline' });

    const ids = [...older.body.messages, ...newest.body.messages].map((m: { id: string }) => m.id);
    expect(new Set(ids).size).toBe(6);
  });
});

describe('preferences', () => {
  it('sets, lists and deletes my preferences', async () => {
    const team = await signupTeam();
    expect((await call('GET', '/api/preferences', { token: team.token })).body).toEqual({ preferences: [] });
    expect(await call('PUT', '/api/preferences/Report Format', { token: team.token, json: { value: 'PDF' } })).toMatchObject({ status: 200, body: { key: 'report_format', value: 'PDF' } });
    await call('PUT', '/api/preferences/units', { token: team.token, json: { value: { distance: 'km' } } });
    await call('PUT', '/api/preferences/report_format', { token: team.token, json: { value: 'DOCX' } });

    const list = await call('GET', '/api/preferences', { token: team.token });
    expect(list.body.preferences.map((p: { key: string; value: unknown }) => [p.key, p.value])).toEqual([
      ['report_format', 'DOCX'],
      ['units', { distance: 'km' }],
    ]);
    expect(await call('DELETE', '/api/preferences/units', { token: team.token })).toMatchObject({ status: 200, body: { key: 'units', deleted: true } });
    expect((await call('DELETE', '/api/preferences/units', { token: team.token })).status).toBe(404);
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toHaveLength(1);
    expect((await call('PUT', '/api/preferences/x', { token: team.token, json: {} })).status).toBe(400);
  });
});

describe('other people’s conversations and preferences', () => {
  it('answers 404 to another user and another team on every conversation route, and changes nothing', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const stranger = await signupTeam();
    const id = await conversation(team, 'Salary negotiations', 2);
    const snapshot = async () => ({
      conversation: (await call('GET', `/api/conversations/${id}`, { token: team.token })).body,
      messages: (await call('GET', `/api/conversations/${id}/messages`, { token: team.token })).body,
    });
    const before = await snapshot();

    for (const intruder of [colleague, stranger]) {
      const attempts: [string, string, unknown?][] = [
        ['GET', `/api/conversations/${id}`],
        ['PATCH', `/api/conversations/${id}`, { title: 'Hijacked' }],
        ['DELETE', `/api/conversations/${id}`],
        ['GET', `/api/conversations/${id}/messages`],
      ];
      for (const [method, path, json] of attempts) {
        const res = await call(method, path, { token: intruder.token, json });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.code).toBe('conversation_not_found');
      }
      const theirs = await call('GET', '/api/conversations', { token: intruder.token });
      expect(theirs.body.conversations.map((c: { id: string }) => c.id)).not.toContain(id);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('keeps preferences per user: others can neither read nor delete mine', async () => {
    const team = await signupTeam();
    const colleague = await addMember(team);
    const stranger = await signupTeam();
    await call('PUT', '/api/preferences/tone', { token: team.token, json: { value: 'formal' } });

    for (const intruder of [colleague, stranger]) {
      expect((await call('GET', '/api/preferences', { token: intruder.token })).body.preferences).toEqual([]);
      expect((await call('DELETE', '/api/preferences/tone', { token: intruder.token })).status).toBe(404);
      await call('PUT', '/api/preferences/tone', { token: intruder.token, json: { value: 'casual' } });
    }
    expect((await call('GET', '/api/preferences', { token: team.token })).body.preferences).toEqual([expect.objectContaining({ key: 'tone', value: 'formal' })]);
    expect((await call('GET', '/api/preferences', { token: colleague.token })).body.preferences).toEqual([expect.objectContaining({ key: 'tone', value: 'casual' })]);
  });
});
