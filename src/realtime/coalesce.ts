// Streaming sends one small frame per token. On a busy server every frame is a write system call on its
// own, and those calls are most of the cost of streaming. Consecutive deltas of a reply are therefore
// held on their TCP socket (cork) for at most STREAM_COALESCE_MS and leave together in one write. Each
// chunk stays its own Socket.IO event or SSE message, in order; only its departure is batched. The first
// delta of a reply and every other chunk are never held back by this module (a chunk queued behind held
// deltas leaves with them).
import type { Socket } from 'node:net';
import type { UIMessageChunk } from 'ai';

const held = new Set<Socket>();
let timer: NodeJS.Timeout | undefined;

const isDelta = (chunk: UIMessageChunk) => chunk.type === 'text-delta' || chunk.type === 'reasoning-delta' || chunk.type === 'tool-input-delta';

function release() {
  timer = undefined;
  for (const s of held) if (!s.destroyed) s.uncork();
  held.clear();
}

/** Hold writes to `socket` until the next release (at most `ms` from the first hold). */
export function hold(socket: Socket | undefined | null, ms: number) {
  if (!socket || ms <= 0 || held.has(socket) || socket.destroyed) return;
  socket.cork();
  held.add(socket);
  timer ??= setTimeout(release, ms);
}

/** For one reply: whether each chunk may wait (a delta right after another delta). Call once per chunk, in order. */
export function deltaRun() {
  let previousWasDelta = false;
  return (chunk: UIMessageChunk) => {
    const delta = isDelta(chunk);
    const mayWait = delta && previousWasDelta;
    previousWasDelta = delta;
    return mayWait;
  };
}

/** Release everything held now (server shutdown). */
export function releaseAll() {
  if (timer) clearTimeout(timer);
  release();
}
