// The widget over Socket.IO against a started service: a widget token's socket is refused from an
// origin its team does not allow (connect_error origin_not_allowed), accepted from an allowed one or the
// service's own, and conversations it starts record the 'widget' channel.
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Running } from '../../src/server.js';
import { testConfig } from '../support/harness.js';
import { rows, widgetTeam } from './support.js';

const SITE = 'https://shop.example.test';
let server: Running;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startServer(testConfig({ PORT: '0' }));
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

function connect(auth: Record<string, unknown>, origin?: string): Promise<Socket> {
  const s = io(`${server.url}/chat`, { transports: ['websocket'], auth, reconnection: false, forceNew: true, ...(origin ? { extraHeaders: { origin } } : {}) });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

const refusal = (p: Promise<Socket>) => p.then(() => undefined, (e: Error & { data?: { code?: string } }) => e);

function turn(s: Socket, text: string): Promise<{ conversationId: string; status: string }> {
  return new Promise((resolve, reject) => {
    s.emit('message:send', { text }, (ack: any) => {
      if (!ack?.ok) return reject(new Error(JSON.stringify(ack)));
      const onDone = (e: { conversationId: string; status: string }) => {
        if (e.conversationId !== ack.conversationId) return;
        s.off('chat:done', onDone);
        resolve(e);
      };
      s.on('chat:done', onDone);
    });
  });
}

describe('widget sockets', () => {
  it('refuses a widget token from an origin the team does not allow, and accepts allowed and own origins', async () => {
    const t = await widgetTeam(server.url, { origins: [SITE] });
    const evil = await refusal(connect({ token: t.token, client: 'widget' }, 'https://evil.example.test'));
    expect(evil?.data?.code).toBe('origin_not_allowed');
    expect(evil?.message).toContain('https://evil.example.test');
    const otherTeam = await widgetTeam(server.url, { origins: ['https://other.example.test'] });
    expect((await refusal(connect({ token: t.token }, 'https://other.example.test')))?.data?.code).toBe('origin_not_allowed');
    expect((await refusal(connect({ token: otherTeam.token }, SITE)))?.data?.code).toBe('origin_not_allowed');

    await expect(connect({ token: t.token, client: 'widget' }, SITE)).resolves.toBeTruthy();
    await expect(connect({ token: t.token }, server.url)).resolves.toBeTruthy();
    await expect(connect({ token: t.token })).resolves.toBeTruthy();
  });

  it('refuses an expired widget token with invalid_token', async () => {
    const t = await widgetTeam(server.url, { origins: [SITE] });
    await rows(`UPDATE channels_widget_token SET expires_at = NOW() - INTERVAL '1 minute' WHERE user_id = :u`, { u: t.userId });
    expect((await refusal(connect({ token: t.token }, SITE)))?.data?.code).toBe('invalid_token');
  });

  it('records the widget channel on conversations started from a widget socket (widget token or a session marked client: widget)', async () => {
    const t = await widgetTeam(server.url, { origins: [SITE] });
    const widget = await connect({ token: t.token, client: 'widget' }, SITE);
    const a = await turn(widget, 'remember that my favourite colour is blue');
    expect(a.status).toBe('complete');
    const session = await connect({ token: t.owner, client: 'widget' });
    const b = await turn(session, 'hello');
    const plain = await connect({ token: t.owner });
    const c = await turn(plain, 'hello again');
    const channels = await rows<{ id: string; channel: string }>('SELECT id, channel FROM agents_conversation WHERE id IN (:ids)', { ids: [a.conversationId, b.conversationId, c.conversationId] });
    const byId = Object.fromEntries(channels.map((r) => [r.id, r.channel]));
    expect(byId).toEqual({ [a.conversationId]: 'widget', [b.conversationId]: 'widget', [c.conversationId]: 'web' });
    const [pref] = await rows<{ value: unknown }>('SELECT value FROM agents_preference WHERE user_id = :u', { u: t.userId });
    expect(pref?.value).toBe('blue');
  });
});
