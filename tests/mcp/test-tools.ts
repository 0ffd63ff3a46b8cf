// Tools that exist only in the MCP tests, registered through the same registry as real tools: a slow
// one that reports progress and honours cancellation, one that reports model tokens, one that fails.
import { z } from 'zod';
import { AppError } from '../../src/errors.js';
import { registerTools } from '../../src/tools/index.js';
import { defineTool } from '../../src/tools/registry.js';

/** What the slow tool saw, per run id, so tests can check that cancellation reached it. */
export const slowRuns = new Map<string, { steps: number; aborted: boolean; finished: boolean }>();

export const slowCount = defineTool({
  name: 'test_slow_count',
  title: 'Count slowly (test)',
  description: 'Counts to `steps`, one step every `stepMs`, reporting progress.',
  inputSchema: z.object({ runId: z.string(), steps: z.number().int().min(1).max(200), stepMs: z.number().int().min(1).max(1000) }),
  outputSchema: z.object({ counted: z.number() }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: { patterns: [] },
  execute: async ({ runId, steps, stepMs }, ctx) => {
    const run = { steps: 0, aborted: false, finished: false };
    slowRuns.set(runId, run);
    for (let i = 0; i < steps; i++) {
      if (ctx.signal?.aborted) {
        run.aborted = true;
        throw new AppError('cancelled', 'stopped');
      }
      ctx.onProgress?.({ progress: i + 1, total: steps, message: `step ${i + 1}` });
      run.steps = i + 1;
      await new Promise((r) => setTimeout(r, stepMs));
    }
    run.finished = true;
    return { counted: steps };
  },
});

export const spendTokens = defineTool({
  name: 'test_spend_tokens',
  title: 'Spend tokens (test)',
  description: 'Pretends to call a model and reports the tokens it used.',
  inputSchema: z.object({ tokens: z.number().int().min(0) }),
  outputSchema: z.object({ answer: z.string(), tokensUsed: z.number() }),
  minRole: 'viewer',
  readOnly: false,
  destructive: false,
  idempotent: false,
  needsApproval: true,
  intents: { patterns: [] },
  execute: async ({ tokens }) => ({ answer: 'forty-two', tokensUsed: tokens }),
});

export const explode = defineTool({
  name: 'test_explode',
  title: 'Fail unexpectedly (test)',
  description: 'Throws a plain error, as a bug would.',
  inputSchema: z.object({}),
  outputSchema: z.object({}),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: { patterns: [] },
  execute: async () => {
    throw new Error('secret internal detail');
  },
});

registerTools(slowCount, spendTokens, explode);
