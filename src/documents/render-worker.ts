// A render thread (started by ./render-pool.ts): one task at a time, a file or an inspection back, the
// file's bytes moved to the main thread rather than copied, errors sent back as data.
import { parentPort } from 'node:worker_threads';
import { runRenderTask, serializeError, type RenderTask } from './render-task.js';

export interface TaskMessage {
  id: number;
  task: RenderTask;
}

export type ReplyMessage =
  | { id: number; ok: true; file: ArrayBuffer; size: number }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ReturnType<typeof serializeError> }
  | { ready: true };

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread (see render-pool.ts)');

port.on('message', async ({ id, task }: TaskMessage) => {
  let reply: ReplyMessage;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await runRenderTask(task);
    if (Buffer.isBuffer(result)) {
      const file = ownArrayBuffer(result);
      reply = { id, ok: true, file, size: result.length };
      transfer = [file];
    } else reply = { id, ok: true, value: result };
  } catch (err) {
    reply = { id, ok: false, error: serializeError(err) };
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ ready: true } satisfies ReplyMessage);

/** An ArrayBuffer holding exactly these bytes that may be given away (a small Buffer can share Node's pool). */
function ownArrayBuffer(buf: Buffer): ArrayBuffer {
  const whole = buf.buffer;
  if (whole instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength === whole.byteLength) return whole;
  return new Uint8Array(buf).buffer as ArrayBuffer; // a copy of just these bytes
}
