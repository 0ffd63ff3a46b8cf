// One MCP server instance for one caller: the registry's tools this caller may use, the resources and
// the prompts. Both transports build it here: Streamable HTTP once per request (the SDK's per-request
// factory, both protocol eras), stdio once per connection. Tools are read from the registry each time,
// so tools that feature modules register later appear without any change here.
import { McpServer } from '@modelcontextprotocol/server';
import type { AuthContext } from '../auth/context.js';
import { toolsFor } from '../tools/index.js';
import { registerCompletions, registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';
import { registerRegistryTools, type McpSession } from './tools.js';

export const SERVER_INFO = { name: 'flowspark', title: 'FlowSpark', version: '0.1.0' };

const INSTRUCTIONS =
  "FlowSpark is the team's AI workspace. Tools act as the user the API key belongs to, limited by the key's " +
  'scopes; tools annotated destructive delete data or spend tokens, so confirm them with the user first. ' +
  'Knowledge-base documents (flowspark://kb/{id}) and generated documents (flowspark://documents/{id}) are resources.';

/**
 * What an instance must be able to answer. An HTTP instance serves one request, so it registers only
 * what that request's methods use (a tools/call needs its one tool, not the prompts); stdio and any
 * request we do not classify get everything.
 */
export interface Surface {
  /** 'all', or the names of the tools being called. */
  tools: 'all' | string[];
  resources: boolean;
  prompts: boolean;
}

export const FULL_SURFACE: Surface = { tools: 'all', resources: true, prompts: true };

/** The surface a JSON-RPC message (or batch) needs. */
export function surfaceFor(body: unknown): Surface {
  const messages = Array.isArray(body) ? body : [body];
  const tools = new Set<string>();
  const s: Surface = { tools: [], resources: false, prompts: false };
  for (const m of messages) {
    const { method, params } = (m ?? {}) as { method?: unknown; params?: { name?: unknown } };
    if (method === 'tools/call' && typeof params?.name === 'string') tools.add(params.name);
    else if (method === 'tools/list') s.tools = 'all';
    else if (typeof method === 'string' && method.startsWith('resources/')) s.resources = true;
    else if (typeof method === 'string' && method.startsWith('prompts/')) s.prompts = true;
    else if (method === 'completion/complete') s.resources = s.prompts = true;
    else if (typeof method === 'string' && method.startsWith('notifications/')) continue;
    else return FULL_SURFACE;
  }
  if (s.tools !== 'all') s.tools = [...tools];
  return s;
}

export function createMcpServer(auth: AuthContext, session: McpSession, surface: Surface = FULL_SURFACE): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: {
      // Instances are per request (HTTP) and the registry is fixed after start-up: no change notifications.
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
      completions: {},
    },
    instructions: INSTRUCTIONS,
    // A bound on argument size well above any tool's needs; the body limit bounds it too.
    maxToolInputElements: 10_000,
  });
  const allowed = toolsFor(auth);
  const wanted = surface.tools;
  registerRegistryTools(server, session, wanted === 'all' ? allowed : allowed.filter((t) => wanted.includes(t.name)));
  if (surface.resources) registerResources(server, session);
  if (surface.prompts) registerPrompts(server, session);
  registerCompletions(server, session);
  return server;
}
