// Socket.IO clients for the chat tests: connect to /chat with a token, send with an ack, and record the
// turn events a socket receives so a test can wait for `chat:done` and look at every chunk before it.
import type { UIMessageChunk } from 'ai';
import { io, type Socket } from 'socket.io-client';

export interface ChunkEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  chunk: UIMessageChunk;
  replay?: boolean;
}
export interface DoneEvent {
  conversationId: string;
  messageId: string;
  status: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  charged: number;
}

export interface ChatClient {
  socket: Socket;
  chunks: ChunkEvent[];
  done: DoneEvent[];
  errors: { conversationId: string; code: string; message: string }[];
  /** Resolves with the chat:done of the conversation (already received or next), within `timeoutMs`. */
  waitDone(conversationId: string, opts?: { after?: number; timeoutMs?: number }): Promise<DoneEvent>;
  /** Resolves once `count` chunks of the conversation have arrived. */
  waitChunks(conversationId: string, count: number, timeoutMs?: number): Promise<ChunkEvent[]>;
  ack<T = any>(event: string, payload: unknown, timeoutMs?: number): Promise<T>;
  /** Every event the server sent before this call has been delivered when it resolves. */
  sync(): Promise<void>;
  close(): void;
}

function until<T>(check: () => T | undefined, subscribe: (wake: () => void) => () => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const now = check();
    if (now !== undefined) return resolve(now);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = subscribe(() => {
      const v = check();
      if (v === undefined) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

/** Connect to the /chat namespace; rejects with the server's connect_error. */
export function connectChat(url: string, token?: string, opts: { timeoutMs?: number } = {}): Promise<ChatClient> {
  const socket = io(`${url}/chat`, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const client: ChatClient = {
    socket,
    chunks: [],
    done: [],
    errors: [],
    waitDone(conversationId, { after = 0, timeoutMs = 10_000 } = {}) {
      const find = () => client.done.slice(after).find((d) => d.conversationId === conversationId);
      return until(find, (wake) => (socket.on('chat:done', wake), () => socket.off('chat:done', wake)), timeoutMs, `chat:done of ${conversationId}`);
    },
    waitChunks(conversationId, count, timeoutMs = 10_000) {
      const find = () => {
        const mine = client.chunks.filter((c) => c.conversationId === conversationId);
        return mine.length >= count ? mine : undefined;
      };
      return until(find, (wake) => (socket.on('chat:chunk', wake), () => socket.off('chat:chunk', wake)), timeoutMs, `${count} chunks of ${conversationId}`);
    },
    ack(event, payload, timeoutMs = 10_000) {
      return socket.timeout(timeoutMs).emitWithAck(event, payload);
    },
    async sync() {
      await socket.timeout(5000).emitWithAck('conversation:leave', { conversationId: 'sync' });
    },
    close() {
      socket.disconnect();
    },
  };
  socket.on('chat:chunk', (e: ChunkEvent) => client.chunks.push(e));
  socket.on('chat:done', (e: DoneEvent) => client.done.push(e));
  socket.on('chat:error', (e: { conversationId: string; code: string; message: string }) => client.errors.push(e));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error('socket did not connect in time'));
    }, opts.timeoutMs ?? 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(client);
    });
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(err);
    });
  });
}

/** The turn's chunks as one socket saw them, checked to be in order with no gap. */
export function turnChunks(client: ChatClient, conversationId: string, opts: { replay?: boolean } = {}): UIMessageChunk[] {
  const mine = client.chunks.filter((c) => c.conversationId === conversationId && (opts.replay === undefined || !!c.replay === opts.replay));
  mine.forEach((c, i) => {
    if (c.seq !== i) throw new Error(`chunk ${i} of ${conversationId} has seq ${c.seq}`);
  });
  return mine.map((c) => c.chunk);
}
