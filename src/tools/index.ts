// The registry: every tool the agent and the MCP server offer, in intent-priority order.
import { atLeast } from '../auth/roles.js';
import { hasScope, type AuthContext } from '../auth/context.js';
import { forgetPreference, listPreferencesTool, rememberPreference } from './preferences.js';
import type { ToolDefinition } from './registry.js';

const tools: ToolDefinition[] = [rememberPreference, forgetPreference, listPreferencesTool];

/** Feature modules add their tools at import time. */
export function registerTools(...defs: ToolDefinition[]): void {
  for (const d of defs) if (!tools.some((t) => t.name === d.name)) tools.push(d);
}

export const allTools = (): ToolDefinition[] => tools;

/** Tools this caller may see and call: role at least the tool's minimum; read-only keys see read-only tools. */
export function toolsFor(auth: Pick<AuthContext, 'role' | 'scopes'>): ToolDefinition[] {
  return tools.filter(
    (t) =>
      atLeast(auth.role, t.minRole) &&
      (t.readOnly ? hasScope(auth as AuthContext, 'read') || hasScope(auth as AuthContext, 'chat') : hasScope(auth as AuthContext, 'write') || hasScope(auth as AuthContext, 'chat')),
  );
}

export type { ToolContext, ToolDefinition } from './registry.js';
