// Metering and audit of MCP tool calls, the same records a chat turn leaves: an analytics_usage row
// (activity `mcp_tool_call`, tool, duration, tokens, API key id), an audit_log row (`mcp.tool_called`,
// details carry the API key id) and, when the tool reports model tokens (`tokensUsed` in its output),
// a ledger debit. Only calls that succeeded are recorded: a call refused for bad input, a missing
// permission or another tenant's id stores nothing.
//
// A call that spent tokens is written in one transaction before the result goes back, like a chat turn.
// The far more common call that spent none is queued and written in batches (every FLUSH_MS = 200 ms, or at
// MAX_BATCH rows) as two multi-row INSERTs, so a read-only tool call costs no extra round trip of its
// own. The queue is flushed when the server or the stdio process stops; a crash can lose at most the
// last FLUSH_MS of rows (logged when a flush fails).
import type { Transaction } from 'sequelize';
import { normaliseIp } from '../analytics/audit.js';
import type { AuthContext } from '../auth/context.js';
import { debitTokens } from '../billing/ledger.js';
import { db } from '../db/index.js';
import { AuditLog, Usage } from '../db/models/index.js';
import { log } from '../log.js';

export interface ToolCallRecord {
  auth: AuthContext;
  tool: string;
  transport: 'http' | 'stdio';
  era: 'legacy' | 'modern';
  durationMs: number;
  tokensUsed: number;
}

const FLUSH_MS = 200;
const MAX_BATCH = 500;

/** Tokens a tool says it spent: a positive `tokensUsed` at the top of its output. */
export function reportedTokens(output: unknown): number {
  const n = (output as { tokensUsed?: unknown } | null)?.tokensUsed;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

// Rows as recordUsage / auditAs (src/analytics) build them, for bulk insertion.
function usageRow(r: ToolCallRecord, at: Date) {
  const { auth } = r;
  return {
    tenantId: auth.tenantId,
    userId: auth.userId,
    activityType: 'mcp_tool_call',
    tokensUsed: r.tokensUsed,
    executionTimeSeconds: r.durationMs / 1000,
    metadata: { tool: r.tool, channel: 'mcp', transport: r.transport, protocol: r.era, ...(auth.apiKeyId ? { apiKeyId: auth.apiKeyId } : {}) },
    createdAt: at,
  };
}

function auditRow(r: ToolCallRecord, at: Date) {
  const { auth } = r;
  return {
    tenantId: auth.tenantId,
    userId: auth.userId,
    action: 'mcp.tool_called',
    resourceType: 'tool',
    resourceId: null,
    details: { tool: r.tool, transport: r.transport, durationMs: Math.round(r.durationMs), ...(auth.apiKeyId ? { apiKeyId: auth.apiKeyId } : {}) },
    ipAddress: normaliseIp(auth.ip),
    userAgent: auth.userAgent?.slice(0, 1000) ?? null,
    createdAt: at,
  };
}


async function writeRows(entries: { r: ToolCallRecord; at: Date }[], transaction: Transaction) {
  await Usage.bulkCreate(entries.map((e) => usageRow(e.r, e.at)), { transaction });
  await AuditLog.bulkCreate(entries.map((e) => auditRow(e.r, e.at)), { transaction });
}

let queue: { r: ToolCallRecord; at: Date; attempt: number }[] = [];
let timer: NodeJS.Timeout | undefined;
let chain: Promise<void> = Promise.resolve();

export async function meterToolCall(r: ToolCallRecord): Promise<void> {
  const at = new Date();
  if (r.tokensUsed > 0) {
    await db().transaction(async (transaction) => {
      await writeRows([{ r, at }], transaction);
      // The tokens are already spent: charge what is left rather than fail (as the chat turn does).
      await debitTokens(
        {
          tenantId: r.auth.tenantId,
          tokens: r.tokensUsed,
          operation: 'mcp_tool_call',
          clampToBalance: true,
          metadata: { tool: r.tool, userId: r.auth.userId, ...(r.auth.apiKeyId ? { apiKeyId: r.auth.apiKeyId } : {}) },
        },
        transaction,
      );
    });
    return;
  }
  queue.push({ r, at, attempt: 0 });
  if (queue.length >= MAX_BATCH) void flushMetering();
  else timer ??= setTimeout(() => void flushMetering(), FLUSH_MS).unref();
}

/** Write every queued row now (shutdown, tests). Resolves once they are stored or given up on. */
export function flushMetering(): Promise<void> {
  clearTimeout(timer);
  timer = undefined;
  chain = chain.then(async () => {
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      try {
        await db().transaction((transaction) => writeRows(batch, transaction));
      } catch (err) {
        const retry = batch.filter((e) => e.attempt === 0).map((e) => ({ ...e, attempt: 1 }));
        log.error({ err, rows: batch.length, retrying: retry.length }, 'writing MCP usage and audit rows failed');
        if (retry.length) {
          queue.push(...retry);
          timer ??= setTimeout(() => void flushMetering(), 1000).unref();
        }
        return;
      }
    }
  });
  return chain;
}
