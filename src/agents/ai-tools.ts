// Registry tools → AI SDK tools, bound to the caller's context. The model supplies arguments only;
// tenant and user come from `ctx`. Tools that need approval pause the turn (AI SDK tool approval).
import { tool, zodSchema, type Schema, type ToolSet } from 'ai';
import type { ToolContext, ToolDefinition } from '../tools/registry.js';

// A tool's JSON schema is derived from its zod schema once, not on every turn (the AI SDK caches it
// inside the Schema object, so the object is kept per definition).
const schemas = new WeakMap<ToolDefinition, Schema>();
const inputSchemaOf = (def: ToolDefinition): Schema => {
  let s = schemas.get(def);
  if (!s) schemas.set(def, (s = zodSchema(def.inputSchema as never) as Schema));
  return s;
};

export function toAiTools(defs: ToolDefinition[], ctx: ToolContext): ToolSet {
  const set: ToolSet = {};
  for (const def of defs) {
    set[def.name] = tool({
      description: def.description,
      inputSchema: inputSchemaOf(def),
      needsApproval: def.needsApproval,
      execute: async (input: unknown, opts: { abortSignal?: AbortSignal }) =>
        def.execute(def.inputSchema.parse(input), { ...ctx, signal: opts.abortSignal ?? ctx.signal }),
    } as never);
  }
  return set;
}
