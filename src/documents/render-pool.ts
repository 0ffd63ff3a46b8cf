// Document rendering runs on a small pool of worker threads, so that a large PDF or spreadsheet never
// stalls the event loop that streams chat replies and answers requests, and documents render in parallel.
// Size: DOCUMENT_RENDER_THREADS; 0 renders on the main thread, as before the pool. The default leaves a CPU
// to the event loop and the database driver (and PostgreSQL when it runs on the same machine): one thread
// on 2 CPUs, two from 3 CPUs up. Measured on a 2-CPU machine, 4 concurrent generations ran 10–50% faster
// on one render thread than on two, for every format (the two threads took the CPU the database work
// needed), while a large render still left the event loop free.
//
// - Threads start on first use and are `unref`ed while idle, so an idle pool keeps no script or test alive;
//   closeRenderPool() (called when the server closes, see ./feature.ts) ends them, and a later task starts
//   new ones.
// - One task per thread at a time, first come first served; a task whose AbortSignal fires before it
//   starts is dropped. Content and template bytes are copied in; the file comes back transferred.
// - A thread that dies fails its task (generation_failed upstream) and is replaced. If threads cannot
//   start at all (a runtime that cannot load the worker), rendering falls back to the main thread, logged.
// - The project runs from TypeScript sources (tsx, vitest), and worker threads do not reliably inherit
//   tsx's loader: a tiny bootstrap loads the .ts entry through tsx's API.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { config } from '../config.js';
import { log } from '../log.js';
import type { ReplyMessage, TaskMessage } from './render-worker.js';
import { deserializeError, runRenderTask, type RenderResult, type RenderTask } from './render-task.js';

interface Job {
  id: number;
  task: RenderTask;
  signal?: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job?: Job;
}

const ENTRY = new URL(`./render-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

// CommonJS because eval'd worker code is a script; dynamic import() loads the ESM pieces by absolute URL.
// tsx's tsImport loads the .ts entry (and what it imports) through hooks of its own, whether or not the
// runtime also gave this thread tsx's global loader (Node versions differ there).
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) await (await import(workerData.tsx)).tsImport(workerData.entry, workerData.entry);
  else await import(workerData.entry);
})().catch((err) => setImmediate(() => { throw err; }));
`;

let size: number | undefined;
let threads: Thread[] = [];
const queue: Job[] = [];
let nextId = 1;
/** Set when threads could not start: everything renders on the main thread from then on. */
let unavailable = false;

/** How many render threads this process uses (0: the main thread renders). */
export function renderThreads(): number {
  size ??= config().DOCUMENT_RENDER_THREADS ?? Math.max(1, Math.min(2, os.availableParallelism() - 1));
  return unavailable ? 0 : size;
}

/** How many render threads are running now (they start on first use). */
export const renderThreadsRunning = (): number => threads.length;

/** Runs a render task on a render thread (or here, with no pool), resolving to its file or findings. */
export function render<T extends RenderTask>(task: T, signal?: AbortSignal): Promise<RenderResult<T>> {
  if (renderThreads() === 0) return runRenderTask(task) as Promise<RenderResult<T>>;
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, task, signal, resolve: resolve as (v: unknown) => void, reject });
    dispatch();
  });
}

/** Ends the render threads (tasks running or waiting fail). The pool starts again on the next task. */
export async function closeRenderPool(): Promise<void> {
  const closing = threads;
  threads = [];
  size = undefined;
  for (const job of queue.splice(0)) job.reject(new Error('the document render pool was closed'));
  await Promise.all(closing.map((t) => t.worker.terminate()));
}

function dispatch(): void {
  while (queue.length > 0) {
    const thread = threads.find((t) => t.ready && !t.job);
    if (!thread) {
      if (threads.length < renderThreads()) threads.push(startThread());
      return; // a thread picks up the queue when it is ready or done
    }
    const job = queue.shift()!;
    if (job.signal?.aborted) {
      job.reject(job.signal.reason ?? new Error('aborted'));
      continue;
    }
    try {
      thread.worker.postMessage({ id: job.id, task: job.task } satisfies TaskMessage);
    } catch (err) {
      job.reject(err); // the task could not be cloned (a value that is not plain data)
      continue;
    }
    thread.job = job;
    thread.worker.ref();
  }
}

function startThread(): Thread {
  const tsx = ENTRY.pathname.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry: ENTRY.href, tsx } });
  // Started for a waiting task, so referenced until it is idle: only an idle thread may let the process end.
  const thread: Thread = { worker, ready: false };
  worker.on('message', (msg: ReplyMessage) => {
    if ('ready' in msg) thread.ready = true;
    else {
      const job = thread.job;
      if (!job || job.id !== msg.id) return;
      thread.job = undefined;
      if (!msg.ok) job.reject(deserializeError(msg.error));
      else if ('file' in msg) job.resolve(Buffer.from(msg.file, 0, msg.size));
      else job.resolve(msg.value);
    }
    dispatch();
    if (!thread.job) worker.unref();
  });
  worker.on('error', (err) => {
    log.error({ err }, 'a document render thread failed');
    thread.job?.reject(err);
    thread.job = undefined;
  });
  worker.on('exit', (code) => {
    const wasReady = thread.ready;
    thread.job?.reject(new Error(`the document render thread exited (code ${code})`));
    thread.job = undefined;
    if (!threads.includes(thread)) return; // closed
    threads = threads.filter((t) => t !== thread);
    if (!wasReady && !threads.some((t) => t.ready)) {
      // Threads cannot start here: render on the main thread rather than fail every document.
      unavailable = true;
      log.error({ code }, 'document render threads could not start; rendering on the main thread');
      for (const job of queue.splice(0)) runRenderTask(job.task).then(job.resolve, job.reject);
      return;
    }
    dispatch();
  });
  return thread;
}
