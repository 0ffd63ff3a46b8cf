// The search log (kb_query): people see their own searches; managers and above see the team's.
import type { WhereOptions } from 'sequelize';
import type { AuthContext } from '../auth/context.js';
import { authorize, policies } from '../auth/policies.js';
import { atLeast } from '../auth/roles.js';
import { KbQuery } from '../db/models/index.js';

export interface KbQueryView {
  id: string;
  queriedById: string;
  queryText: string;
  retrievedChunkIds: string[];
  retrievalTimeSeconds: number | null;
  embeddingModel: string | null;
  llmModel: string | null;
  tokensUsed: number;
  createdAt: Date;
}

export const presentKbQuery = (q: KbQuery): KbQueryView => ({
  id: q.id,
  queriedById: q.queriedById,
  queryText: q.queryText,
  retrievedChunkIds: Array.isArray(q.retrievedChunks) ? q.retrievedChunks : [],
  retrievalTimeSeconds: q.retrievalTimeSeconds,
  embeddingModel: q.embeddingModel,
  llmModel: q.llmModel,
  tokensUsed: q.tokensUsed ?? 0,
  createdAt: q.createdAt,
});

export async function listKbQueries(
  auth: AuthContext,
  page: { limit?: number; offset?: number } = {},
): Promise<{ queries: KbQueryView[]; total: number }> {
  authorize(policies.read(auth));
  const where: WhereOptions = atLeast(auth.role, 'manager')
    ? { tenantId: auth.tenantId }
    : { tenantId: auth.tenantId, queriedById: auth.userId };
  const { rows, count } = await KbQuery.findAndCountAll({
    where,
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    limit: page.limit ?? 20,
    offset: page.offset ?? 0,
  });
  return { queries: rows.map(presentKbQuery), total: count };
}
