// What the model sees besides the new message: the conversation's recent messages within a token
// budget, the user's preferences, and passages recalled from the same user's EARLIER conversations by
// embedding similarity (pgvector cosine distance), never another user's.
import { QueryTypes } from 'sequelize';
import { db } from '../db/index.js';
import { Interaction } from '../db/models/index.js';
import { toMessage, messageText, type ChatMessage } from './conversations.js';
import { embedder, toVectorLiteral } from './embeddings.js';
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

/** The newest messages of the conversation whose tokens fit `budget`, oldest first. */
export async function loadHistory(caller: Caller, conversationId: string, budget: number, excludeId?: string): Promise<ChatMessage[]> {
  // Plain rows without the embedding column: parsing 200 vectors per turn would sit before the first token.
  const rows = (await Interaction.findAll({
    attributes: ['id', 'data', 'createdAt'],
    where: { tenantId: caller.tenantId, userId: caller.userId, conversationId, interactionType: 'message' },
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: 200,
    raw: true,
  })) as Interaction[];
  const picked: ChatMessage[] = [];
  let used = 0;
  for (const row of rows) {
    if (row.id === excludeId) continue;
    const m = toMessage(row);
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
  const rows = await db().query<{ conversation_id: string; data: ChatMessage; similarity: number; created_at: Date }>(
    `SELECT conversation_id, data, 1 - (embedding <=> :v::vector) AS similarity, created_at
       FROM agents_interaction
      WHERE tenant_id = :tenantId AND user_id = :userId AND interaction_type = 'message'
        AND embedding IS NOT NULL AND conversation_id IS DISTINCT FROM :conversationId
      ORDER BY embedding <=> :v::vector
      LIMIT :k`,
    { replacements: { v: toVectorLiteral(vector), tenantId: caller.tenantId, userId: caller.userId, conversationId, k: opts.k ?? 3 }, type: QueryTypes.SELECT },
  );
  return rows
    .filter((r) => r.similarity >= (opts.minSimilarity ?? 0.2))
    .map((r) => ({ conversationId: r.conversation_id, role: r.data.role, text: truncateToTokens(messageText(r.data), 200), similarity: r.similarity, at: r.created_at }));
}

/** The embedding stored with a message for later recall (its text, bounded). */
export const embedForRecall = (m: ChatMessage): Promise<number[] | undefined> => embedText(messageText(m));

/** One embedding of a text (bounded), used both to recall with and to be recalled by. */
export async function embedText(text: string): Promise<number[] | undefined> {
  if (!text.trim()) return undefined;
  const [v] = await embedder().embed([truncateToTokens(text, 500)]);
  return v;
}
