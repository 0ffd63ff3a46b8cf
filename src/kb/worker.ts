// The ingestion worker: a loop that claims queued documents (./queue.ts) and ingests them (./ingest.ts).
// In the server it runs in-process (src/kb/feature.ts, RUN_WORKERS=true) and wakes as soon as an upload
// is committed; otherwise it polls. Scaled out it runs as its own process (`npm run worker`, needs
// DATABASE_URL: the embedded engine is opened by one process only). stop() aborts the document in hand,
// which goes back to the queue for the next worker.
import { setTimeout as sleep } from 'node:timers/promises';
import { embedder } from '../agents/embeddings.js';
import { on } from '../events.js';
import { log } from '../log.js';
import { DEFAULT_INGEST_OPTIONS, ingestKbDocument, type IngestOptions, type IngestOutcome } from './ingest.js';
import { claimNextKbDocument } from './queue.js';
import { assertEmbedderMatchesColumn } from './vector-column.js';

export interface KbWorkerOptions extends Partial<Omit<IngestOptions, 'signal'>> {
  /** How often an idle worker looks for work it was not woken for (other processes' uploads, retries). */
  pollIntervalMs?: number;
  /** Documents processed at the same time by this worker. */
  concurrency?: number;
  /** Only this tenant's documents (tests, benchmarks). */
  tenantId?: string;
  onOutcome?: (documentId: string, outcome: IngestOutcome) => void;
}

export interface KbWorker {
  /** Look for work now. */
  wake(): void;
  /** Finish or release what is in hand, then stop. */
  stop(): Promise<void>;
}

const ingestOptions = (opts: KbWorkerOptions): IngestOptions => ({
  leaseSeconds: opts.leaseSeconds ?? DEFAULT_INGEST_OPTIONS.leaseSeconds,
  maxAttempts: opts.maxAttempts ?? DEFAULT_INGEST_OPTIONS.maxAttempts,
  embedBatchSize: opts.embedBatchSize ?? DEFAULT_INGEST_OPTIONS.embedBatchSize,
  retryDelaySeconds: opts.retryDelaySeconds ?? DEFAULT_INGEST_OPTIONS.retryDelaySeconds,
});

/**
 * Claim and ingest one document. Returns null when there was nothing to claim. Throws `kb_reindex_required`
 * when the embedder's dimension differs from the column's (nothing is claimed then).
 */
export async function processNextKbDocument(
  opts: KbWorkerOptions & { signal?: AbortSignal } = {},
): Promise<{ documentId: string; outcome: IngestOutcome } | null> {
  await assertEmbedderMatchesColumn(embedder());
  const base = ingestOptions(opts);
  const doc = await claimNextKbDocument({ leaseSeconds: base.leaseSeconds, tenantId: opts.tenantId });
  if (!doc) return null;
  const outcome = await ingestKbDocument(doc, { ...base, signal: opts.signal });
  opts.onOutcome?.(doc.id, outcome);
  return { documentId: doc.id, outcome };
}

/** Process documents until none is claimable (a retry waiting for its back-off is not claimable). */
export async function drainKbQueue(opts: KbWorkerOptions = {}): Promise<{ documentId: string; outcome: IngestOutcome }[]> {
  const done: { documentId: string; outcome: IngestOutcome }[] = [];
  for (;;) {
    const next = await processNextKbDocument(opts);
    if (!next) return done;
    done.push(next);
  }
}

export function startKbWorker(opts: KbWorkerOptions = {}): KbWorker {
  const pollIntervalMs = opts.pollIntervalMs ?? 5000;
  const stopping = new AbortController();
  // Each wake-up bumps the generation; a loop that saw a newer generation than it started with looks again
  // instead of sleeping, so a wake-up that lands while it is busy is not lost.
  let generation = 0;
  const waiters = new Set<() => void>();
  let lastMismatchLog = 0;

  const wake = () => {
    generation++;
    for (const w of [...waiters]) w();
  };
  const unsubscribe = on('kb.document.updated', (p) => {
    if (p.status === 'uploading' && (!opts.tenantId || p.tenantId === opts.tenantId)) wake();
  });

  async function waitForWork(seen: number): Promise<void> {
    if (generation !== seen || stopping.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollIntervalMs);
      stopping.signal.addEventListener('abort', done, { once: true });
      waiters.add(done);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        waiters.delete(done);
        resolve();
      }
    });
  }

  async function loop(slot: number): Promise<void> {
    while (!stopping.signal.aborted) {
      const seen = generation;
      try {
        const next = await processNextKbDocument({ ...opts, signal: stopping.signal });
        if (next) continue;
      } catch (err) {
        if (stopping.signal.aborted) break;
        const code = (err as { code?: string }).code;
        if (code === 'kb_reindex_required') {
          if (Date.now() - lastMismatchLog > 60_000) {
            lastMismatchLog = Date.now();
            log.error({ err }, 'kb worker paused: the embedding dimension changed; run "npm run kb:reindex"');
          }
        } else {
          log.warn({ err, slot }, 'kb worker: claiming or processing failed; retrying after the poll interval');
        }
        await sleep(pollIntervalMs, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      await waitForWork(seen);
    }
  }

  const loops = Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, (_, slot) => loop(slot));
  log.info({ concurrency: loops.length, pollIntervalMs }, 'kb ingestion worker started');
  return {
    wake,
    async stop() {
      unsubscribe();
      stopping.abort();
      await Promise.allSettled(loops);
      log.info('kb ingestion worker stopped');
    },
  };
}
