// Registry tools → AI SDK tools, bound to the caller's context. The model supplies arguments only;
// tenant and user come from `ctx`. Tools that need approval pause the turn (AI SDK tool approval).
import { tool, type ToolSet } from 'ai';
import type { ToolContext, ToolDefinition } from '../tools/registry.js';

export function toAiTools(defs: ToolDefinition[], ctx: ToolContext): ToolSet {
  const set: ToolSet = {};
  for (const def of defs) {
    set[def.name] = tool({
      description: def.description,
      inputSchema: def.inputSchema,
      needsApproval: def.needsApproval,
      execute: async (input: unknown, opts: { abortSignal?: AbortSignal }) =>
        def.execute(def.inputSchema.parse(input), { ...ctx, signal: opts.abortSignal ?? ctx.signal }),
    } as never);
  }
  return set;
}
