// Realtime: Socket.IO namespace /chat. The handshake is authenticated by a session token or API key
// (auth.token, Authorization header, or the session cookie). Every socket joins `user:<id>`; a socket
// may join `conversation:<id>` rooms of its own conversations only. Turn chunks are broadcast to the
// user's room, so every tab sees every turn. With REDIS_URL the Redis adapter lets several instances
// share rooms: a user's sockets get their turn whichever instance runs it.
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { authenticateToken, bearerToken } from '../auth/authenticate.js';
import type { AuthContext } from '../auth/context.js';
import { getConversation } from '../agents/conversations.js';
import { abortTurn, setTurnBroadcaster, startTurn } from '../agents/turn.js';
import { turnHub } from '../agents/turn-hub.js';
import type { Cache } from '../cache/index.js';
import type { Config } from '../config.js';
import { toErrorResponse } from '../http/app.js';
import { log } from '../log.js';
import { on } from '../events.js';
import { deltaRun, hold, releaseAll } from './coalesce.js';
import type { Channel } from '../tools/registry.js';

export interface SocketData {
  auth: AuthContext;
  /** Recorded on the conversations this socket starts; a handshake check may set it (the widget: 'widget'). */
  channel?: Channel;
}

type Ack = (res: unknown) => void;
const ackError = (ack: Ack | undefined, err: unknown) => {
  const { body } = toErrorResponse(err);
  if (typeof ack === 'function') ack({ ok: false, error: body.error });
};

function cookieToken(cookie: string | undefined): string | undefined {
  return cookie?.split(/;\s*/).find((c) => c.startsWith('fs_session='))?.slice('fs_session='.length);
}

/** Extra handshake checks (e.g. the widget's allowed origins); set by the channels module. */
export type HandshakeCheck = (socket: Socket, auth: AuthContext) => Promise<string | undefined>;
const handshakeChecks: HandshakeCheck[] = [];
export const addHandshakeCheck = (c: HandshakeCheck) => handshakeChecks.push(c);

/** The TCP socket under a Socket.IO socket on the websocket transport (none while long-polling). */
function rawSocket(socket: Socket | undefined): NetSocket | undefined {
  const transport = (socket?.conn as unknown as { transport?: { name?: string; socket?: { _socket?: NetSocket } } } | undefined)?.transport;
  return transport?.name === 'websocket' ? transport.socket?._socket : undefined;
}

export async function attachRealtime(server: HttpServer, cfg: Config, cache: Cache) {
  const io = new Server(server, {
    path: '/socket.io',
    serveClient: false,
    cors: { origin: cfg.ALLOWED_ORIGINS ?? true, credentials: true },
    maxHttpBufferSize: Math.max(cfg.MAX_MESSAGE_CHARS * 4, 65_536),
    pingInterval: 25_000,
    pingTimeout: 20_000,
  });
  let pub: import('ioredis').Redis | undefined;
  let sub: import('ioredis').Redis | undefined;
  if (cache.redis) {
    pub = cache.redis.duplicate();
    sub = cache.redis.duplicate();
    io.adapter(createAdapter(pub, sub));
  }
  const chat = io.of('/chat');

  chat.use(async (socket, next) => {
    try {
      const h = socket.handshake;
      const token = (typeof h.auth?.token === 'string' ? h.auth.token : undefined) ?? bearerToken(h.headers.authorization) ?? cookieToken(h.headers.cookie);
      const auth = await authenticateToken(token, { ip: h.address, userAgent: h.headers['user-agent'] });
      if (!auth) return next(Object.assign(new Error('Your session or API key is invalid, expired or revoked.'), { data: { code: 'invalid_token' } }));
      for (const check of handshakeChecks) {
        const refusal = await check(socket, auth);
        if (refusal) return next(Object.assign(new Error(refusal), { data: { code: 'origin_not_allowed' } }));
      }
      (socket.data as SocketData).auth = auth;
      next();
    } catch (err) {
      next(Object.assign(new Error('The service could not check your credentials.'), { data: { code: 'unavailable' } }));
      log.warn({ err }, 'socket auth failed');
    }
  });

  chat.on('connection', (socket) => {
    const auth = (socket.data as SocketData).auth;
    void socket.join(`user:${auth.userId}`);

    socket.on('message:send', async (payload: { conversationId?: string; text?: string; clientMessageId?: string }, ack?: Ack) => {
      try {
        const turn = await startTurn({
          auth,
          channel: (socket.data as SocketData).channel ?? 'web',
          conversationId: typeof payload?.conversationId === 'string' ? payload.conversationId : undefined,
          text: typeof payload?.text === 'string' ? payload.text : '',
          clientMessageId: typeof payload?.clientMessageId === 'string' ? payload.clientMessageId.slice(0, 200) : undefined,
        });
        void socket.join(`conversation:${turn.conversationId}`);
        ack?.({ ok: true, conversationId: turn.conversationId, userMessageId: turn.userMessageId, messageId: turn.assistantMessageId, turnId: turn.turnId });
      } catch (err) {
        ackError(ack, err);
      }
    });

    socket.on('tool:approve', async (payload: { conversationId?: string; approvalId?: string; approved?: boolean; reason?: string }, ack?: Ack) => {
      try {
        const turn = await startTurn({
          auth,
          channel: (socket.data as SocketData).channel ?? 'web',
          conversationId: String(payload?.conversationId ?? ''),
          approvals: [{ approvalId: String(payload?.approvalId ?? ''), approved: payload?.approved === true, ...(typeof payload?.reason === 'string' ? { reason: payload.reason.slice(0, 500) } : {}) }],
        });
        ack?.({ ok: true, conversationId: turn.conversationId, messageId: turn.assistantMessageId, turnId: turn.turnId });
      } catch (err) {
        ackError(ack, err);
      }
    });

    socket.on('message:abort', async (payload: { conversationId?: string }, ack?: Ack) => {
      try {
        const c = await getConversation(auth, String(payload?.conversationId ?? ''));
        ack?.({ ok: true, aborted: await abortTurn(auth, c.id) });
      } catch (err) {
        ackError(ack, err);
      }
    });

    socket.on('conversation:join', async (payload: { conversationId?: string }, ack?: Ack) => {
      try {
        const c = await getConversation(auth, String(payload?.conversationId ?? ''));
        await socket.join(`conversation:${c.id}`);
        const active = await turnHub().active(c.id);
        ack?.({ ok: true, conversationId: c.id, activeMessageId: active?.assistantMessageId ?? null });
      } catch (err) {
        ackError(ack, err);
      }
    });

    socket.on('conversation:leave', async (payload: { conversationId?: string }, ack?: Ack) => {
      await socket.leave(`conversation:${String(payload?.conversationId ?? '')}`);
      ack?.({ ok: true });
    });

    // Re-attach after a reload or a dropped connection: replay the turn in flight to this socket only.
    socket.on('conversation:resume', async (payload: { conversationId?: string; fromSeq?: number }, ack?: Ack) => {
      try {
        const c = await getConversation(auth, String(payload?.conversationId ?? ''));
        const active = await turnHub().active(c.id);
        ack?.({ ok: true, active: !!active, messageId: active?.assistantMessageId ?? null });
        if (!active) return;
        let seq = Math.max(0, Number(payload?.fromSeq) || 0);
        const reader = turnHub().stream(c.id, seq).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done || socket.disconnected) break;
          socket.emit('chat:chunk', { conversationId: c.id, messageId: active.assistantMessageId, seq: seq++, chunk: value, replay: true });
        }
      } catch (err) {
        ackError(ack, err);
      }
    });
  });

  // Consecutive deltas of a reply leave each local socket together, at most STREAM_COALESCE_MS apart
  // (see ./coalesce.ts); sockets on other instances are reached through the adapter.
  const runs = new Map<string, ReturnType<typeof deltaRun>>();
  const holdLocal = (rooms: string[]) => {
    const local = chat.adapter.rooms;
    for (const room of rooms)
      for (const id of local.get(room) ?? []) hold(rawSocket(chat.sockets.get(id)), cfg.STREAM_COALESCE_MS);
  };
  setTurnBroadcaster({
    chunk: ({ userId, conversationId, messageId, seq, chunk }) => {
      let run = runs.get(messageId);
      if (!run) runs.set(messageId, (run = deltaRun()));
      const rooms = [`user:${userId}`, `conversation:${conversationId}`];
      if (run(chunk)) holdLocal(rooms);
      chat.to(rooms).emit('chat:chunk', { conversationId, messageId, seq, chunk });
    },
    done: ({ userId, conversationId, messageId, result }) => {
      runs.delete(messageId);
      const rooms = [`user:${userId}`, `conversation:${conversationId}`];
      if (result.error) chat.to(rooms).emit('chat:error', { conversationId, messageId, ...result.error });
      chat.to(rooms).emit('chat:done', { conversationId, messageId, status: result.status, usage: result.usage, charged: result.charged });
    },
  });
  const offLow = on('billing.low_balance', (p) => {
    // Tenant-wide notice; every socket of the tenant's users is in its user room, so fan out by tenant room.
    chat.to(`tenant:${p.tenantId}`).emit('notification', { type: 'low_balance', balance: p.balance, threshold: p.threshold });
  });
  chat.on('connection', (socket) => void socket.join(`tenant:${(socket.data as SocketData).auth.tenantId}`));

  return async () => {
    offLow();
    setTurnBroadcaster(undefined);
    releaseAll();
    await turnHub().close();
    await new Promise<void>((r) => io.close(() => r()));
    await pub?.quit().catch(() => undefined);
    await sub?.quit().catch(() => undefined);
  };
}
