// Following a turn's UI message chunks into a reply a chat platform can show while it grows: the text so
// far, the tools run, the approvals asked, the error if any. Slack edits its message with it; Teams posts
// it at the end.
import type { UIMessageChunk } from 'ai';
import { turnHub } from '../../agents/turn-hub.js';
import type { StartedTurn, TurnResult } from '../../agents/turn.js';
import { isAppError } from '../../errors.js';
import { allTools } from '../../tools/index.js';

export interface PendingApproval {
  approvalId: string;
  toolCallId: string;
  toolName: string;
  title: string;
  input: unknown;
}

export interface ReplyState {
  /** Markdown, as the model wrote it. */
  text: string;
  /** Tools that ran (or were denied), in order. */
  tools: { toolCallId: string; toolName: string; title: string; input?: unknown; state: 'running' | 'done' | 'failed' | 'denied' }[];
  approvals: PendingApproval[];
  error?: string;
}

/** A tool's human title, for progress lines and approval prompts. */
export const toolTitle = (toolName: string) => allTools().find((t) => t.name === toolName)?.title ?? toolName.replace(/_/g, ' ');

export function emptyReply(): ReplyState {
  return { text: '', tools: [], approvals: [] };
}

/** Fold one UI message chunk into the reply. */
export function applyChunk(state: ReplyState, chunk: UIMessageChunk): void {
  switch (chunk.type) {
    case 'text-start':
      if (state.text && !state.text.endsWith('\n\n')) state.text += '\n\n';
      break;
    case 'text-delta':
      state.text += chunk.delta;
      break;
    case 'tool-input-available':
    case 'tool-input-error':
      if (!state.tools.some((t) => t.toolCallId === chunk.toolCallId))
        state.tools.push({ toolCallId: chunk.toolCallId, toolName: chunk.toolName, title: toolTitle(chunk.toolName), input: chunk.input, state: chunk.type === 'tool-input-error' ? 'failed' : 'running' });
      break;
    case 'tool-approval-request': {
      const tool = state.tools.find((t) => t.toolCallId === chunk.toolCallId);
      state.approvals.push({ approvalId: chunk.approvalId, toolCallId: chunk.toolCallId, toolName: tool?.toolName ?? '', title: tool?.title ?? 'a tool', input: tool?.input });
      break;
    }
    case 'tool-output-available':
    case 'tool-output-error':
    case 'tool-output-denied': {
      const tool = state.tools.find((t) => t.toolCallId === chunk.toolCallId);
      if (tool) tool.state = chunk.type === 'tool-output-available' ? 'done' : chunk.type === 'tool-output-denied' ? 'denied' : 'failed';
      break;
    }
    case 'error':
      state.error = chunk.errorText;
      break;
    default:
      break;
  }
}

/**
 * Follow a started turn to its end: `onProgress` sees the reply after every chunk (the caller throttles
 * what it sends), the result comes once the turn is stored and charged.
 */
export async function followTurn(turn: StartedTurn, onProgress: (state: ReplyState) => void): Promise<{ state: ReplyState; result: TurnResult }> {
  const state = emptyReply();
  const reader = turnHub().stream(turn.conversationId, 0).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      applyChunk(state, value);
      onProgress(state);
    }
  } finally {
    reader.releaseLock();
  }
  const result = await turn.done;
  if (result.status === 'error' && result.error) state.error ??= result.error.message;
  return { state, result };
}

/** What to tell a channel user when a turn could not start (no tokens, busy, too many messages…). */
export function turnRefusal(err: unknown): string | null {
  return isAppError(err) && err.status < 500 ? err.message : null;
}
