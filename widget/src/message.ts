// Messages as the AI SDK's UIMessage (id, role, parts) and the reducer that builds an assistant message
// from UI message stream chunks — the same shapes the server stores, so a message replayed from chunks
// and one loaded from history render alike. Chunks are applied in `seq` order exactly once: a replay
// after a reload or reconnect overlaps the live broadcast, and duplicates or early arrivals are sorted out
// here.

export interface Part {
  type: string;
  [k: string]: any;
}

export interface Msg {
  id: string;
  role: 'user' | 'assistant' | 'system';
  parts: Part[];
  metadata?: Record<string, any>;
  /** Client-side only: a sent message not yet acknowledged, or refused. */
  pending?: boolean;
  failed?: string;
}

export interface Turn {
  conversationId: string;
  messageId: string;
  msg: Msg;
  next: number;
  pending: Map<number, any>;
  texts: Map<string, Part>;
  done: boolean;
}

export function newTurn(conversationId: string, messageId: string, base?: Msg): Turn {
  const msg: Msg = base ?? { id: messageId, role: 'assistant', parts: [], metadata: { status: 'streaming' } };
  return { conversationId, messageId, msg, next: 0, pending: new Map(), texts: new Map(), done: false };
}

/** Apply the chunk numbered `seq`; returns whether the message changed. */
export function feed(turn: Turn, seq: number, chunk: any): boolean {
  if (seq < turn.next || turn.pending.has(seq)) return false;
  turn.pending.set(seq, chunk);
  let changed = false;
  while (turn.pending.has(turn.next)) {
    const c = turn.pending.get(turn.next);
    turn.pending.delete(turn.next);
    turn.next++;
    apply(turn, c);
    changed = true;
  }
  return changed;
}

const toolPart = (m: Msg, toolCallId: string) => m.parts.find((p) => p.toolCallId === toolCallId && (p.type.startsWith('tool-') || p.type === 'dynamic-tool'));

function upsertTool(m: Msg, c: any): Part {
  let p = toolPart(m, c.toolCallId);
  if (!p) {
    p = c.dynamic ? { type: 'dynamic-tool', toolName: c.toolName, toolCallId: c.toolCallId } : { type: `tool-${c.toolName}`, toolCallId: c.toolCallId };
    m.parts.push(p);
  }
  if (c.title) p.title = c.title;
  return p;
}

function apply(turn: Turn, c: any): void {
  const m = turn.msg;
  if (!c || typeof c.type !== 'string') return;
  const meta = (extra: unknown) => {
    if (extra && typeof extra === 'object') m.metadata = { ...m.metadata, ...extra };
  };
  switch (c.type) {
    case 'start':
      meta(c.messageMetadata);
      return;
    case 'start-step':
      m.parts.push({ type: 'step-start' });
      return;
    case 'text-start':
    case 'reasoning-start': {
      const p: Part = { type: c.type === 'text-start' ? 'text' : 'reasoning', text: '', state: 'streaming' };
      m.parts.push(p);
      turn.texts.set(`${p.type}:${c.id}`, p);
      return;
    }
    case 'text-delta':
    case 'reasoning-delta': {
      const type = c.type === 'text-delta' ? 'text' : 'reasoning';
      let p = turn.texts.get(`${type}:${c.id}`);
      if (!p) {
        p = { type, text: '', state: 'streaming' };
        m.parts.push(p);
        turn.texts.set(`${type}:${c.id}`, p);
      }
      p.text += String(c.delta ?? '');
      return;
    }
    case 'text-end':
    case 'reasoning-end': {
      const p = turn.texts.get(`${c.type === 'text-end' ? 'text' : 'reasoning'}:${c.id}`);
      if (p) p.state = 'done';
      return;
    }
    case 'tool-input-start':
      upsertTool(m, c).state = 'input-streaming';
      return;
    case 'tool-input-available': {
      const p = upsertTool(m, c);
      p.state = 'input-available';
      p.input = c.input;
      return;
    }
    case 'tool-input-error': {
      const p = upsertTool(m, c);
      p.state = 'output-error';
      p.input = c.input;
      p.errorText = c.errorText;
      return;
    }
    case 'tool-approval-request': {
      const p = toolPart(m, c.toolCallId);
      if (p) {
        p.state = 'approval-requested';
        p.approval = { id: c.approvalId };
      }
      return;
    }
    case 'tool-output-available': {
      const p = toolPart(m, c.toolCallId);
      if (p) {
        p.output = c.output;
        if (!c.preliminary) p.state = 'output-available';
      }
      return;
    }
    case 'tool-output-error': {
      const p = toolPart(m, c.toolCallId);
      if (p) {
        p.state = 'output-error';
        p.errorText = c.errorText;
      }
      return;
    }
    case 'tool-output-denied': {
      const p = toolPart(m, c.toolCallId);
      if (p) p.state = 'output-denied';
      return;
    }
    case 'source-url':
    case 'source-document':
    case 'file':
      m.parts.push({ ...c });
      return;
    case 'error':
      m.parts.push({ type: 'error', errorText: String(c.errorText ?? 'Something went wrong.') });
      meta({ status: 'error' });
      return;
    case 'finish':
      meta(c.messageMetadata);
      turn.done = true;
      return;
    case 'abort':
      meta({ status: 'aborted' });
      turn.done = true;
      return;
    case 'message-metadata':
      meta(c.messageMetadata);
      return;
    default:
      return; // data-* parts and future chunk types: nothing to show
  }
}
