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

/** The newest messages of the conversation whose tokens fit `budget`, oldest first. */
export async function loadHistory(caller: Caller, conversationId: string, budget: number, excludeId?: string): Promise<ChatMessage[]> {
  const rows = await Interaction.findAll({
    where: { tenantId: caller.tenantId, userId: caller.userId, conversationId, interactionType: 'message' },
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: 200,
  });
  const picked: ChatMessage[] = [];
  let used = 0;
  for (const row of rows) {
    if (row.id === excludeId) continue;
    const m = toMessage(row);
    const t = messageTokens(m);
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

/** Passages from the same user's other conversations most similar to `text`. */
export async function recall(caller: Caller, conversationId: string, text: string, opts: { k?: number; minSimilarity?: number } = {}): Promise<RecalledPassage[]> {
  if (!text.trim()) return [];
  const [vector] = await embedder().embed([text]);
  const rows = await db().query<{ conversation_id: string; data: ChatMessage; similarity: number; created_at: Date }>(
    `SELECT conversation_id, data, 1 - (embedding <=> :v::vector) AS similarity, created_at
       FROM agents_interaction
      WHERE tenant_id = :tenantId AND user_id = :userId AND interaction_type = 'message'
        AND embedding IS NOT NULL AND conversation_id IS DISTINCT FROM :conversationId
      ORDER BY embedding <=> :v::vector
      LIMIT :k`,
    { replacements: { v: toVectorLiteral(vector!), tenantId: caller.tenantId, userId: caller.userId, conversationId, k: opts.k ?? 3 }, type: QueryTypes.SELECT },
  );
  return rows
    .filter((r) => r.similarity >= (opts.minSimilarity ?? 0.2))
    .map((r) => ({ conversationId: r.conversation_id, role: r.data.role, text: truncateToTokens(messageText(r.data), 200), similarity: r.similarity, at: r.created_at }));
}

/** The embedding stored with a message for later recall (its text, bounded). */
export async function embedForRecall(m: ChatMessage): Promise<number[] | undefined> {
  const text = messageText(m);
  if (!text) return undefined;
  const [v] = await embedder().embed([truncateToTokens(text, 500)]);
  return v;
}
