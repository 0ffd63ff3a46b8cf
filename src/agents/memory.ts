// What the model sees besides the new message: the conversation's recent messages within a token
// budget, the user's preferences, and passages recalled from the same user's EARLIER conversations by
// embedding similarity (pgvector cosine distance), never another user's.
import { sql } from '../db/sql.js';
import { config } from '../config.js';
import { createOfflineEmbedder, OFFLINE_EMBEDDING_MODEL_ID } from '../kb/offline-embedder.js';
import { toMessage, messageText, type ChatMessage } from './conversations.js';
import { embedder, toVectorLiteral, type Embedder } from './embeddings.js';
import { countTokens, truncateToTokens } from './tokenizer.js';

type Caller = { tenantId: string; userId: string };

/** Estimated tokens of a UI message as the model will see it (text, tool inputs and outputs). */
export function messageTokens(m: ChatMessage): number {
  let n = 4;
  for (const p of m.parts) {
    if (p.type === 'text' || p.type === 'reasoning') n += countTokens(p.text);
    else if (p.type.startsWith('tool-') || p.type === 'dynamic-tool') {
      const t = p as { input?: unknown; output?: unknown };
      n += countTokens(JSON.stringify(t.input ?? {})) + countTokens(JSON.stringify(t.output ?? '')) + 8;
    }
  }
  return n;
}

// Finished messages never change, so their token counts are kept (bounded): counting a long
// conversation's history again on every turn would be most of the CPU spent before the first token.
const FINAL_STATUSES = new Set(['complete', 'aborted', 'error']);
const counted = new Map<string, number>();
function historyTokens(m: ChatMessage): number {
  if (m.role !== 'user' && !FINAL_STATUSES.has(m.metadata?.status ?? '')) return messageTokens(m);
  let n = counted.get(m.id);
  if (n === undefined) {
    n = messageTokens(m);
    if (counted.size >= 50_000) counted.delete(counted.keys().next().value!);
    counted.set(m.id, n);
  }
  return n;
}

/**
 * The newest messages of the conversation whose tokens fit `budget`, oldest first. `newest` is a message
 * not read from the database (the one being stored while this runs): it is the window's last message,
 * and its stored row, if the read already sees it, is skipped.
 */
export async function loadHistory(caller: Caller, conversationId: string, budget: number, newest?: ChatMessage): Promise<ChatMessage[]> {
  // Plain rows without the embedding column: parsing 200 vectors per turn would sit before the first token.
  const rows = await sql<{ id: string; data: ChatMessage; created_at: Date }>(
    `SELECT id, data, created_at FROM agents_interaction
      WHERE tenant_id = $1 AND user_id = $2 AND conversation_id = $3 AND interaction_type = 'message'
      ORDER BY created_at DESC, id DESC LIMIT 200`,
    [caller.tenantId, caller.userId, conversationId],
  );
  const picked: ChatMessage[] = newest ? [newest] : [];
  let used = newest ? historyTokens(newest) : 0;
  for (const row of rows) {
    if (row.id === newest?.id) continue;
    const m = toMessage({ id: row.id, data: row.data, createdAt: row.created_at });
    const t = historyTokens(m);
    if (used + t > budget && picked.length > 0) break;
    used += t;
    picked.push(m);
  }
  // A window must not start with an assistant message whose tool calls lost their user turn.
  while (picked.length && picked[picked.length - 1]!.role !== 'user') picked.pop();
  return picked.reverse();
}

export interface RecalledPassage {
  conversationId: string;
  role: string;
  text: string;
  similarity: number;
  at: Date;
}

/** Passages from the same user's other conversations most similar to `query` (a text, or its embedding). */
export async function recall(caller: Caller, conversationId: string, query: string | number[], opts: { k?: number; minSimilarity?: number } = {}): Promise<RecalledPassage[]> {
  const vector = typeof query === 'string' ? await embedText(query) : query;
  if (!vector) return [];
  const rows = await sql<{ conversation_id: string; data: ChatMessage; similarity: number; created_at: Date }>(
    `SELECT conversation_id, data, 1 - (embedding <=> $1::vector) AS similarity, created_at
       FROM agents_interaction
      WHERE tenant_id = $2 AND user_id = $3 AND interaction_type = 'message'
        AND embedding IS NOT NULL AND conversation_id IS DISTINCT FROM $4::uuid
      ORDER BY embedding <=> $1::vector
      LIMIT $5`,
    [toVectorLiteral(vector), caller.tenantId, caller.userId, conversationId, opts.k ?? 3],
  );
  return rows
    .filter((r) => r.similarity >= (opts.minSimilarity ?? 0.2))
    .map((r) => ({ conversationId: r.conversation_id, role: r.data.role, text: truncateToTokens(messageText(r.data), 200), similarity: r.similarity, at: r.created_at }));
}

/** The embedding stored with a message for later recall (its text, bounded). */
export const embedForRecall = (m: ChatMessage): Promise<number[] | undefined> => embedText(messageText(m));

/**
 * One embedding of a text (bounded), used both to recall with and to be recalled by. The new message is
 * embedded before the model is called, so by default recall uses the built-in embedder: no network round
 * trip and no tokens before the first token, and the stored vectors stay comparable whatever
 * EMBEDDING_MODEL becomes. RECALL_EMBEDDER=provider uses the configured embedding model instead.
 */
export async function embedText(text: string): Promise<number[] | undefined> {
  if (!text.trim()) return undefined;
  const input = truncateToTokens(text, 500);
  const c = config();
  if (c.RECALL_EMBEDDER === 'local') return localEmbedder(c.EMBEDDING_DIMENSIONS).embed([input])[0];
  const e = embedder();
  if (e.modelId === OFFLINE_EMBEDDING_MODEL_ID) return (await e.embed([input]))[0];
  return batched(e, input);
}

let local: ReturnType<typeof createOfflineEmbedder> | undefined;
const localEmbedder = (dimensions: number) => (local?.dimensions === dimensions ? local : (local = createOfflineEmbedder(dimensions)));

// Texts embedded through a provider in the same turn of the event loop go in one request (a busy server
// starts many turns at once): one HTTP call and one response to parse instead of one each.
const MAX_BATCH = 64;
let queue: { embedder: Embedder; text: string; resolve: (v: number[] | undefined) => void; reject: (e: unknown) => void }[] = [];
function batched(embedder: Embedder, text: string): Promise<number[] | undefined> {
  return new Promise((resolve, reject) => {
    if (queue.length === 0) setImmediate(flush);
    queue.push({ embedder, text, resolve, reject });
  });
}
function flush() {
  const byEmbedder = new Map<Embedder, typeof queue>();
  for (const q of queue) {
    const waiting = byEmbedder.get(q.embedder);
    if (waiting) waiting.push(q);
    else byEmbedder.set(q.embedder, [q]);
  }
  queue = [];
  for (const [e, waiting] of byEmbedder)
    for (let i = 0; i < waiting.length; i += MAX_BATCH) {
      const batch = waiting.slice(i, i + MAX_BATCH);
      e.embed(batch.map((q) => q.text)).then(
        (vectors) => batch.forEach((q, j) => q.resolve(vectors[j])),
        (err: unknown) => batch.forEach((q) => q.reject(err)),
      );
    }
}
