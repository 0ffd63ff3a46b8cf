// Registry tools → MCP tools. Each ToolDefinition is offered as it is (name, title, description, input
// and output schemas, annotations) and runs through `callRegistryTool`: re-check the caller, parse the
// arguments with the tool's own zod schema, run it with the caller's context (tenant and user never
// come from the arguments), report progress, honour cancellation, meter and audit on success, and turn
// every failure into an `isError` result whose text starts with the stable error code.
//
// Approval: tools that need the user's approval in chat (`needsApproval`: they delete or spend money)
// are offered over MCP too. Confirming a tool call is the MCP client's job (the spec asks clients to
// keep a human in the loop), so such tools are annotated `destructiveHint: true`, which is what clients
// key their confirmation prompts on, and carry `_meta["flowspark/needsApproval"]: true` saying why.
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import type { AuthContext } from '../auth/context.js';
import { toErrorResponse } from '../http/app.js';
import { log } from '../log.js';
import { toolsFor, type ToolDefinition } from '../tools/index.js';
import type { ToolProgress } from '../tools/registry.js';
import type { CancellationRegistry } from './cancellation.js';
import { meterToolCall, reportedTokens } from './metering.js';
import { describeIssues, mcpSchemas } from './schemas.js';

export interface McpSession {
  /** The caller as of this request (re-authenticated per request; throws when no longer valid). */
  caller(): Promise<AuthContext>;
  transport: 'http' | 'stdio';
  era: 'legacy' | 'modern';
  /** Set for 2025-era HTTP requests: routes `notifications/cancelled` sent on a later POST. */
  cancellations?: CancellationRegistry;
}

export const credentialKey = (auth: AuthContext) => auth.apiKeyId ?? auth.sessionId ?? auth.userId;

export function registerRegistryTools(server: McpServer, session: McpSession, defs: ToolDefinition[]): void {
  for (const def of defs) {
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: mcpSchemas(def.inputSchema).input,
        outputSchema: mcpSchemas(def.outputSchema).output,
        annotations: {
          title: def.title,
          readOnlyHint: def.readOnly,
          destructiveHint: !def.readOnly && (def.destructive || def.needsApproval),
          idempotentHint: def.idempotent,
          openWorldHint: false,
        },
        ...(def.needsApproval ? { _meta: { 'flowspark/needsApproval': true } } : {}),
      },
      (args: unknown, ctx: ServerContext) => callRegistryTool(def, args, ctx, session),
    );
  }
}

export const errorResult = (code: string, message: string): CallToolResult => ({
  content: [{ type: 'text', text: `${code}: ${message}` }],
  isError: true,
});

export async function callRegistryTool(def: ToolDefinition, args: unknown, ctx: ServerContext, session: McpSession): Promise<CallToolResult> {
  const started = performance.now();
  let auth: AuthContext;
  try {
    auth = await session.caller();
  } catch (err) {
    return failure(err, def);
  }
  // The tool list was built for the caller when the instance was made; over stdio the same instance
  // lives for the whole connection, so check again with the caller as of now.
  if (!toolsFor(auth).includes(def))
    return errorResult('forbidden', `Your role or API key scopes do not allow the ${def.name} tool.`);

  const parsed = def.inputSchema.safeParse(args ?? {});
  if (!parsed.success) return errorResult('invalid_arguments', `Invalid arguments for ${def.name}: ${describeIssues(parsed.error)}`);

  const tracked = session.cancellations?.track(credentialKey(auth), ctx.mcpReq.id);
  const signal = tracked ? AbortSignal.any([ctx.mcpReq.signal, tracked.signal]) : ctx.mcpReq.signal;
  // Progress notifications go out in order and all before the result (a client drops late ones).
  const progressToken = ctx.mcpReq._meta?.progressToken;
  let progressSent: Promise<void> = Promise.resolve();
  const onProgress =
    progressToken === undefined
      ? undefined
      : (p: ToolProgress) => {
          const params = { progressToken, progress: p.progress, total: p.total, message: p.message };
          progressSent = progressSent
            .then(() => ctx.mcpReq.notify({ method: 'notifications/progress', params }))
            .catch(() => undefined); // the client went away; the call notices through its signal
        };
  try {
    signal.throwIfAborted();
    const output = await def.execute(parsed.data, { ...auth, channel: 'mcp', signal, onProgress });
    await progressSent;
    signal.throwIfAborted();
    // structuredContent is JSON: dates become ISO strings exactly as in the text block.
    const structured = JSON.parse(JSON.stringify(output ?? {})) as Record<string, unknown>;
    const tokensUsed = reportedTokens(structured);
    try {
      await meterToolCall({ auth, tool: def.name, transport: session.transport, era: session.era, durationMs: performance.now() - started, tokensUsed });
    } catch (err) {
      // The tool has done its work; failing the call now would invite a retry that does it twice.
      log.error({ err, tool: def.name, tenantId: auth.tenantId }, 'metering an MCP tool call failed');
    }
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  } catch (err) {
    if (signal.aborted) return errorResult('cancelled', 'The call was cancelled before it finished.');
    return failure(err, def);
  } finally {
    tracked?.done();
  }
}

function failure(err: unknown, def: ToolDefinition): CallToolResult {
  const { body, log: serious } = toErrorResponse(err);
  if (serious) log.error({ err, tool: def.name }, 'MCP tool call failed');
  return errorResult(body.error.code, body.error.message);
}
