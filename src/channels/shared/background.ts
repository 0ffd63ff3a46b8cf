// Work that runs after a webhook is acknowledged (Slack wants an answer within 3 s, Bot Framework within
// 15 s; a turn takes longer). Tasks are tracked so shutdown can let them finish and tests can wait for them.
import { log } from '../../log.js';

const running = new Set<Promise<void>>();

/** Run `task` after the current request returns; failures are logged, never thrown. */
export function runInBackground(name: string, task: () => Promise<void>): void {
  const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
    .then(task)
    .catch((err) => log.error({ err, task: name }, 'channel background task failed'))
    .finally(() => running.delete(p));
  running.add(p);
}

/** Resolves when every background task (including ones they start) has finished, or after `timeoutMs`. */
export async function backgroundIdle(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running.size && Date.now() < deadline) {
    await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
  }
}
