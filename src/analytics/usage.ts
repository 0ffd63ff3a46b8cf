// One analytics_usage row per metered activity (chat turn, document generated, KB query, MCP call).
import type { Transaction } from 'sequelize';
import { Usage } from '../db/models/index.js';

export interface UsageEntry {
  tenantId: string;
  userId?: string | null;
  activityType: string;
  tokensUsed?: number;
  executionTimeSeconds?: number;
  metadata?: Record<string, unknown>;
}

export async function recordUsage(entry: UsageEntry, transaction?: Transaction): Promise<void> {
  await Usage.create(
    {
      tenantId: entry.tenantId,
      userId: entry.userId ?? null,
      activityType: entry.activityType,
      tokensUsed: entry.tokensUsed ?? 0,
      executionTimeSeconds: entry.executionTimeSeconds ?? null,
      metadata: entry.metadata ?? {},
      createdAt: new Date(),
    },
    { transaction },
  );
}
