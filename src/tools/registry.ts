// One definition per tool, adapted to AI SDK tools (src/agents/) and to MCP tools (src/mcp/).
// Tools run with the caller's tenant and user from the authenticated context (ToolContext); nothing in
// the model's arguments can change them.
import type { z } from 'zod';
import type { ApiKeyScope } from '../auth/context.js';
import type { Role } from '../auth/roles.js';

export type Channel = 'web' | 'slack' | 'teams' | 'mcp' | 'api' | 'widget';

export interface ToolProgress {
  progress: number;
  total?: number;
  message?: string;
}

export interface ToolContext {
  tenantId: string;
  userId: string;
  role: Role;
  /** Set when the caller authenticated with an API key. */
  apiKeyId?: string;
  /** API key scopes (undefined for session users: full access for their role). */
  scopes?: ApiKeyScope[];
  channel: Channel;
  conversationId?: string;
  signal?: AbortSignal;
  onProgress?: (p: ToolProgress) => void;
}

/** How the built-in offline model recognises that a message asks for this tool. */
export interface ToolIntents {
  /** Any match selects the tool; earlier tools in the registry win ties. */
  patterns: RegExp[];
  /** Fill the tool's arguments from the user's message; undefined means "cannot". */
  extract?: (text: string) => Record<string, unknown> | undefined;
  /** One sentence for the offline model's answer built from the tool's output. */
  describe?: (output: any) => string;
}

export interface ToolDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  minRole: Role;
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** Spends money or deletes: the user must approve the call before it runs. */
  needsApproval: boolean;
  intents: ToolIntents;
  execute(input: z.output<I>, ctx: ToolContext): Promise<z.output<O>>;
}

export function defineTool<I extends z.ZodType, O extends z.ZodType>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}
