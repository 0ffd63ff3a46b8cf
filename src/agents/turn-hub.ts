// Turns in flight and their chunks, so any client can (re-)attach to a turn: the POST that started it,
// a reload (GET /api/chat/:id/stream), another tab. In memory by default; with Redis the chunks live in
// a list and are announced on a channel, so a client can re-attach through any instance, and an abort
// reaches whichever instance runs the turn.
import type { UIMessageChunk } from 'ai';
import type { Redis } from 'ioredis';
import type { Socket as NetSocket } from 'node:net';
import { cache } from '../cache/index.js';
import { deltaRun, hold } from '../realtime/coalesce.js';
import { conflict } from '../errors.js';
import { log } from '../log.js';

/** A conversation already has a turn in flight (what begin() refusing means to the caller). */
export const turnInProgress = () =>
  conflict('turn_in_progress', 'A reply is still being written in this conversation. Wait for it or stop it first.');

export interface TurnInfo {
  turnId: string;
  conversationId: string;
  userId: string;
  assistantMessageId: string;
}

type Event = { seq: number; chunk: UIMessageChunk } | { seq: number; end: true };
type Listener = (e: Event) => void;

/**
 * Kept after a turn ends so a client attaching as it ends (the POST that started a quick turn, a
 * reconnect racing the end) still reads its tail. Later clients read the stored message instead, so a
 * short time is enough, and a busy server does not hold every recent reply's chunks in memory.
 */
const RETAIN_SECONDS = 30;

interface LocalTurn {
  info: TurnInfo;
  events: Event[];
  ended: boolean;
  listeners: Set<Listener>;
}

export class TurnHub {
  private local = new Map<string, LocalTurn>();
  private aborters = new Map<string, AbortController>();
  private sub?: Redis;
  private remoteListeners = new Map<string, Set<Listener>>();

  constructor(private redis?: Redis) {
    if (redis) {
      this.sub = redis.duplicate();
      this.sub.on('error', (err) => log.warn({ err: err.message }, 'turn hub subscriber error'));
      void this.sub.subscribe('fs:turn-abort');
      this.sub.on('message', (channel, message) => {
        if (channel === 'fs:turn-abort') {
          this.aborters.get(message)?.abort();
          return;
        }
        const set = this.remoteListeners.get(channel);
        if (!set) return;
        const e = JSON.parse(message) as Event;
        for (const l of set) l(e);
      });
    }
  }

  /** Register a new turn; fails when the conversation already has one in flight. */
  async begin(info: TurnInfo, controller: AbortController): Promise<boolean> {
    const existing = this.local.get(info.conversationId);
    if (existing && !existing.ended) return false;
    if (this.redis) {
      const ok = await this.redis.set(`fs:turn:${info.conversationId}`, JSON.stringify(info), 'EX', 3600, 'NX');
      if (ok !== 'OK') {
        const raw = await this.redis.get(`fs:turn:${info.conversationId}`);
        const cur = raw ? (JSON.parse(raw) as TurnInfo & { ended?: boolean }) : undefined;
        if (cur && !cur.ended) return false;
        await this.redis.set(`fs:turn:${info.conversationId}`, JSON.stringify(info), 'EX', 3600);
      }
      await this.redis.del(`fs:turn:${info.conversationId}:chunks`);
    }
    this.local.set(info.conversationId, { info, events: [], ended: false, listeners: new Set() });
    this.aborters.set(info.conversationId, controller);
    return true;
  }

  async publish(conversationId: string, seq: number, chunk: UIMessageChunk): Promise<void> {
    this.emitLocal(conversationId, { seq, chunk });
    if (this.redis) {
      const e = JSON.stringify({ seq, chunk });
      await this.redis.multi().rpush(`fs:turn:${conversationId}:chunks`, e).expire(`fs:turn:${conversationId}:chunks`, 3600).publish(`fs:turn:${conversationId}`, e).exec();
    }
  }

  async end(conversationId: string, seq: number): Promise<void> {
    const t = this.local.get(conversationId);
    if (t) t.ended = true;
    this.emitLocal(conversationId, { seq, end: true });
    this.aborters.delete(conversationId);
    if (this.redis) {
      const e = JSON.stringify({ seq, end: true });
      const info = t ? JSON.stringify({ ...t.info, ended: true }) : undefined;
      const m = this.redis.multi().rpush(`fs:turn:${conversationId}:chunks`, e).expire(`fs:turn:${conversationId}:chunks`, RETAIN_SECONDS);
      if (info) m.set(`fs:turn:${conversationId}`, info, 'EX', RETAIN_SECONDS);
      await m.publish(`fs:turn:${conversationId}`, e).exec();
    }
    setTimeout(() => {
      if (this.local.get(conversationId) === t) this.local.delete(conversationId);
    }, RETAIN_SECONDS * 1000).unref();
  }

  /** The turn in flight for this conversation, if any (ended turns are not "active"). */
  async active(conversationId: string): Promise<TurnInfo | null> {
    const t = this.local.get(conversationId);
    if (t && !t.ended) return t.info;
    if (this.redis) {
      const raw = await this.redis.get(`fs:turn:${conversationId}`);
      const cur = raw ? (JSON.parse(raw) as TurnInfo & { ended?: boolean }) : undefined;
      return cur && !cur.ended ? cur : null;
    }
    return null;
  }

  /** Abort the conversation's turn wherever it runs. */
  async abort(conversationId: string): Promise<boolean> {
    const local = this.aborters.get(conversationId);
    if (local) {
      local.abort();
      return true;
    }
    if (this.redis) return (await this.redis.publish('fs:turn-abort', conversationId)) > 0;
    return false;
  }

  /**
   * Follow the turn's chunks from `fromSeq` on: what was already produced, then live, in order, with no
   * gap and no duplicate; `onEnd` once when the turn ends (at once when there is no turn to follow).
   * Returns the unsubscribe function.
   */
  async follow(conversationId: string, fromSeq: number, onChunk: (chunk: UIMessageChunk) => void, onEnd: () => void): Promise<() => void> {
    let next = fromSeq;
    let closed = false;
    let unsubscribe: () => void = () => {};
    const pending = new Map<number, Event>();
    const deliver = (e: Event) => {
      if (closed || e.seq < next) return;
      pending.set(e.seq, e);
      while (pending.has(next)) {
        const cur = pending.get(next)!;
        pending.delete(next);
        next++;
        if ('end' in cur) {
          closed = true;
          unsubscribe();
          onEnd();
          return;
        }
        onChunk(cur.chunk);
      }
    };
    const t = this.local.get(conversationId);
    if (t) {
      t.listeners.add(deliver);
      unsubscribe = () => t.listeners.delete(deliver);
      for (const e of t.events) deliver(e);
      return () => unsubscribe();
    }
    if (this.redis && this.sub) {
      const channel = `fs:turn:${conversationId}`;
      let set = this.remoteListeners.get(channel);
      if (!set) {
        set = new Set();
        this.remoteListeners.set(channel, set);
        await this.sub.subscribe(channel);
      }
      set.add(deliver);
      unsubscribe = () => {
        set!.delete(deliver);
        if (set!.size === 0) {
          this.remoteListeners.delete(channel);
          void this.sub?.unsubscribe(channel);
        }
      };
      const backlog = await this.redis.lrange(`${channel}:chunks`, 0, -1);
      for (const raw of backlog) deliver(JSON.parse(raw) as Event);
      return () => unsubscribe();
    }
    closed = true;
    onEnd();
    return () => {};
  }

  /** The turn's chunks from `fromSeq` on as a stream that ends when the turn ends (see follow). */
  stream(conversationId: string, fromSeq = 0): ReadableStream<UIMessageChunk> {
    let unsubscribe: () => void = () => {};
    return new ReadableStream<UIMessageChunk>({
      start: async (controller) => {
        unsubscribe = await this.follow(conversationId, fromSeq, (chunk) => controller.enqueue(chunk), () => controller.close());
      },
      cancel: () => unsubscribe(),
    });
  }

  /**
   * The same as server-sent events, encoded as the AI SDK's UI message stream (`data: <chunk>`, then
   * `data: [DONE]`), in one stream stage instead of three. With `socket`, consecutive deltas leave it
   * together (see src/realtime/coalesce.ts).
   */
  sse(conversationId: string, fromSeq = 0, opts: { socket?: NetSocket | null; coalesceMs?: number } = {}): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    const mayWait = deltaRun();
    let unsubscribe: () => void = () => {};
    return new ReadableStream<Uint8Array>({
      start: async (controller) => {
        unsubscribe = await this.follow(
          conversationId,
          fromSeq,
          (chunk) => {
            if (mayWait(chunk)) hold(opts.socket, opts.coalesceMs ?? 0);
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
          },
          () => {
            controller.enqueue(encoder.encode('data: [DONE]\n\n'));
            controller.close();
          },
        );
      },
      cancel: () => unsubscribe(),
    });
  }

  private emitLocal(conversationId: string, e: Event) {
    const t = this.local.get(conversationId);
    if (!t) return;
    t.events.push(e);
    for (const l of t.listeners) l(e);
  }

  async close(): Promise<void> {
    for (const c of this.aborters.values()) c.abort();
    await this.sub?.quit().catch(() => this.sub?.disconnect());
  }
}

let hub: TurnHub | undefined;
let hubFor: unknown;

export function turnHub(): TurnHub {
  const c = cache();
  if (!hub || hubFor !== c) {
    hub = new TurnHub(c.redis);
    hubFor = c;
  }
  return hub;
}
