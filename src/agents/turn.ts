// The streaming turn: one user message (or the user's answer to a tool approval) in, one assistant
// message out, as AI SDK UI message chunks. The turn runs to its end whoever is listening: chunks go to
// the turn hub (HTTP streams, re-attach) and to the realtime broadcaster (every tab of the user). At the
// end, in ONE transaction: the assistant message and its tool calls are stored, usage is written to
// analytics_usage, and exactly the provider-reported tokens are debited from the tenant's balance.
import {
  APICallError,
  convertToModelMessages,
  RetryError,
  stepCountIs,
  streamText,
  type LanguageModelUsage,
  type UIMessageChunk,
} from 'ai';
import type { AuthContext } from '../auth/context.js';
import { policies, authorize } from '../auth/policies.js';
import { debitTokens, insufficientTokens } from '../billing/ledger.js';
import { config } from '../config.js';
import { db } from '../db/index.js';
import { Interaction } from '../db/models/index.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import { log } from '../log.js';
import { toolsFor } from '../tools/index.js';
import type { Channel } from '../tools/registry.js';
import { toAiTools } from './ai-tools.js';
import {
  getMessage,
  loadTurnContext,
  messageText,
  saveMessage,
  storeTurnEnd,
  storeUserMessage,
  type ChatMessage,
  type MessageMetadata,
  type ToolCallRow,
  type TurnContext,
} from './conversations.js';
import { acquireTurnSlot } from './limits.js';
import { embedForRecall, embedText, loadHistory, recall, type RecalledPassage } from './memory.js';
import { systemPrompt } from './prompt.js';
import { chatModel } from './provider.js';
import { turnHub, turnInProgress } from './turn-hub.js';

export interface ApprovalAnswer {
  approvalId: string;
  approved: boolean;
  reason?: string;
}

export interface StartTurnInput {
  auth: AuthContext;
  channel: Channel;
  /** Our conversation id, or a client's own chat id (mapped through external_id). */
  conversationId?: string;
  externalId?: string;
  /** A new user message… */
  text?: string;
  clientMessageId?: string;
  /** …or answers to the pending tool approvals of the conversation's last assistant message. */
  approvals?: ApprovalAnswer[];
}

export type TurnStatus = 'complete' | 'aborted' | 'error' | 'awaiting_approval';

export interface TurnResult {
  status: TurnStatus;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  charged: number;
  error?: { code: string; message: string };
}

export interface StartedTurn {
  turnId: string;
  conversationId: string;
  userMessageId?: string;
  assistantMessageId: string;
  created: boolean;
  /** Resolves when the turn is fully stored and charged. */
  done: Promise<TurnResult>;
}

/** Realtime hook: the Socket.IO layer sets this to fan chunks out to the user's sockets. */
export interface TurnBroadcaster {
  chunk(info: { userId: string; conversationId: string; messageId: string; seq: number; chunk: UIMessageChunk }): void;
  done(info: { userId: string; conversationId: string; messageId: string; result: TurnResult }): void;
}
let broadcaster: TurnBroadcaster | undefined;
export const setTurnBroadcaster = (b: TurnBroadcaster | undefined) => (broadcaster = b);

const sumUsage = (a: TurnResult['usage'], u: LanguageModelUsage | undefined) => {
  const input = u?.inputTokens ?? 0;
  const output = u?.outputTokens ?? 0;
  return { inputTokens: a.inputTokens + input, outputTokens: a.outputTokens + output, totalTokens: a.totalTokens + (u?.totalTokens ?? input + output) };
};

/** Provider failures, as the user sees them. */
export function classifyModelError(err: unknown): { code: string; message: string } {
  const e = err instanceof RetryError ? err.lastError : err;
  if (e instanceof AppError) return { code: e.code, message: e.message };
  if (APICallError.isInstance(e) && e.statusCode === 429)
    return { code: 'model_unavailable', message: 'The AI model is rate-limited right now. Try again in a moment.' };
  return { code: 'model_unavailable', message: 'The AI model could not be reached or failed mid-reply. Your message is saved; try again.' };
}

function applyApprovals(message: ChatMessage, answers: ApprovalAnswer[]): ChatMessage {
  const pending = new Map<string, ApprovalAnswer>(answers.map((a) => [a.approvalId, a]));
  const parts = message.parts.map((p) => {
    const tp = p as { state?: string; approval?: { id: string } };
    if (tp.state === 'approval-requested' && tp.approval && pending.has(tp.approval.id)) {
      const a = pending.get(tp.approval.id)!;
      pending.delete(tp.approval.id);
      return { ...p, state: 'approval-responded', approval: { ...tp.approval, approved: a.approved, ...(a.reason ? { reason: a.reason } : {}) } };
    }
    return p;
  });
  if (pending.size) throw badRequest('unknown_approval', 'That approval request is unknown or was already answered.');
  return { ...message, parts: parts as ChatMessage['parts'] };
}

export async function startTurn(input: StartTurnInput): Promise<StartedTurn> {
  const c = config();
  const { auth } = input;
  authorize(policies.chat(auth), 'This API key may not chat (it needs the chat or write scope).');
  const text = input.text?.trim() ?? '';
  if (!input.approvals) {
    if (!text) throw badRequest('empty_message', 'Write a message first.');
    if (text.length > c.MAX_MESSAGE_CHARS) throw badRequest('message_too_long', `Messages are limited to ${c.MAX_MESSAGE_CHARS} characters.`);
  } else if (input.approvals.length === 0) throw badRequest('unknown_approval', 'No approval answer was given.');

  const release = await acquireTurnSlot(auth.userId);
  try {
    // One query: the balance, names and preferences for the prompt, and the conversation (owner checked).
    const context = await loadTurnContext(auth, { id: input.conversationId, channel: input.channel, firstText: text, externalId: input.externalId });
    if (context.balance <= 0) throw insufficientTokens();
    if (input.approvals && context.conversation.created) throw notFound('Conversation', 'conversation_not_found');
    const model = chatModel();
    const conversationId = context.conversation.id;
    const controller = new AbortController();
    const turnId = crypto.randomUUID();
    const hub = turnHub();

    // A new user message. The turn is registered in the hub first, so a second message racing into the
    // same conversation is refused before anything of it is stored. Then, at the same time, the message
    // is stored (with its conversation when new), the history is read, and earlier conversations are
    // recalled. The model is called only once the message is stored: it survives whatever happens next.
    if (!input.approvals) {
      const userMessageId = crypto.randomUUID();
      const assistantMessageId = crypto.randomUUID();
      const userMessage: ChatMessage = {
        id: userMessageId,
        role: 'user',
        parts: [{ type: 'text', text }],
        metadata: { ...(input.clientMessageId ? { clientId: input.clientMessageId } : {}) },
      };
      if (!(await hub.begin({ turnId, conversationId, userId: auth.userId, assistantMessageId }, controller)))
        throw turnInProgress();
      const userVector = embedText(text).catch(() => undefined);
      const recalled = userVector.then((v) => (v ? recall(auth, conversationId, v) : [])).catch(() => []);
      const history = context.conversation.created
        ? Promise.resolve([userMessage])
        : loadHistory(auth, conversationId, c.AGENT_HISTORY_TOKENS, userMessage);
      history.catch(() => undefined);
      try {
        await storeUserMessage(auth, input.channel, context.conversation, userMessage);
      } catch (e) {
        await hub.end(conversationId, 0);
        throw e;
      }
      const done = runTurn({ context, history, recalled, auth, channel: input.channel, conversationId, assistantMessageId, userMessageId, userVector, controller, model, release });
      return { turnId, conversationId, userMessageId, assistantMessageId, created: context.conversation.created, done };
    }

    // Answers to tool approvals: the conversation's last assistant message (locked) takes them, and the
    // turn resumes it.
    let registered = false;
    let assistantMessageId = '';
    try {
      await db().transaction(async (transaction) => {
        const last = await Interaction.findOne({
          where: { tenantId: auth.tenantId, userId: auth.userId, conversationId, interactionType: 'message' },
          order: [['createdAt', 'DESC'], ['id', 'DESC']],
          transaction,
          lock: transaction.LOCK.UPDATE,
        });
        const lastMessage = last ? await getMessage(auth, conversationId, last.id, transaction) : null;
        if (!lastMessage || lastMessage.role !== 'assistant' || lastMessage.metadata?.status !== 'awaiting_approval')
          throw conflict('no_pending_approval', 'This conversation has no tool call waiting for approval.');
        const continued = applyApprovals(lastMessage, input.approvals!);
        continued.metadata = { ...continued.metadata, status: 'streaming' };
        assistantMessageId = continued.id;
        if (!(await hub.begin({ turnId, conversationId, userId: auth.userId, assistantMessageId }, controller)))
          throw turnInProgress();
        registered = true;
        await saveMessage(auth, conversationId, continued, transaction);
      });
    } catch (e) {
      if (registered) await hub.end(conversationId, 0);
      throw e;
    }
    const history = loadHistory(auth, conversationId, c.AGENT_HISTORY_TOKENS);
    history.catch(() => undefined);
    const done = runTurn({ context, history, recalled: Promise.resolve([]), auth, channel: input.channel, conversationId, assistantMessageId, controller, model, release });
    return { turnId, conversationId, assistantMessageId, created: false, done };
  } catch (e) {
    await release();
    throw e;
  }
}

async function runTurn(args: {
  context: TurnContext;
  history: Promise<ChatMessage[]>;
  /** Passages recalled from the user's other conversations (started with the history). */
  recalled: Promise<RecalledPassage[]>;
  auth: AuthContext;
  channel: Channel;
  conversationId: string;
  assistantMessageId: string;
  userMessageId?: string;
  /** The new user message's embedding (none when the turn answers approvals). */
  userVector?: Promise<number[] | undefined>;
  controller: AbortController;
  model: ReturnType<typeof chatModel>;
  release: () => Promise<void>;
}): Promise<TurnResult> {
  const { auth, conversationId, assistantMessageId, controller, model } = args;
  const c = config();
  const hub = turnHub();
  const started = performance.now();
  let seq = 0;
  let usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  let failure: { code: string; message: string } | undefined;
  let timedOut = false;
  let errorSent = false;
  let response: ChatMessage | undefined;
  const publish = async (chunk: UIMessageChunk) => {
    const s = seq++;
    await hub.publish(conversationId, s, chunk);
    broadcaster?.chunk({ userId: auth.userId, conversationId, messageId: assistantMessageId, seq: s, chunk });
  };

  const timeout = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, c.MODEL_TIMEOUT_MS);
  // The user's message is embedded once: to recall with now, and stored with the message at the end so
  // later conversations can recall it.
  const userVector = args.userVector ?? Promise.resolve(undefined);
  try {
    const { context } = args;
    const [history, recalled] = await Promise.all([args.history, args.recalled]);
    const system = systemPrompt({
      tenantName: context.tenantName,
      user: { ...context.user, email: auth.email, role: auth.role },
      preferences: context.preferences,
      recalled,
    });
    const tools = toAiTools(toolsFor(auth), {
      tenantId: auth.tenantId,
      userId: auth.userId,
      role: auth.role,
      apiKeyId: auth.apiKeyId,
      scopes: auth.scopes,
      channel: args.channel,
      conversationId,
      signal: controller.signal,
    });
    const result = streamText({
      model: model.model,
      system,
      messages: await convertToModelMessages(history, { tools, ignoreIncompleteToolCalls: true }),
      tools,
      stopWhen: stepCountIs(c.AGENT_MAX_STEPS),
      abortSignal: controller.signal,
      maxRetries: 1,
      onStepFinish: (step) => {
        usage = sumUsage(usage, step.usage);
      },
      onError: ({ error }) => {
        failure ??= classifyModelError(error);
        log.warn({ err: error, conversationId }, 'model error during turn');
      },
    });
    const stream = result.toUIMessageStream<ChatMessage>({
      originalMessages: history,
      generateMessageId: () => assistantMessageId,
      messageMetadata: ({ part }) => (part.type === 'start' ? { model: model.modelId, status: 'streaming' } : undefined),
      // Called for stream errors AND for tools that threw. Only the former fail the turn (streamText's
      // onError above records them); a failed tool is reported in its part and the model carries on.
      onError: (error) => {
        if (error instanceof AppError) return error.message;
        if (APICallError.isInstance(error) || RetryError.isInstance(error)) return classifyModelError(error).message;
        return failure?.message ?? 'A tool failed while running.';
      },
      onFinish: ({ responseMessage }) => {
        response = responseMessage;
      },
    });
    for await (const chunk of stream) {
      if (chunk.type === 'error') errorSent = true;
      await publish(chunk);
    }
  } catch (err) {
    failure ??= classifyModelError(err);
    log.warn({ err, conversationId }, 'turn failed');
  } finally {
    clearTimeout(timeout);
  }

  const aborted = controller.signal.aborted && !timedOut;
  if (timedOut) failure ??= { code: 'model_unavailable', message: 'The AI model took too long to answer. Try again.' };
  // A provider connection dying mid-reply makes the stream throw (and a timeout ends it as an abort)
  // without an error chunk: send one, so every client sees why the reply stopped.
  if (failure && !errorSent) await publish({ type: 'error', errorText: failure.message }).catch(() => undefined);
  const awaiting = response?.parts.some((p) => (p as { state?: string }).state === 'approval-requested') ?? false;
  const status: TurnStatus = failure ? 'error' : aborted ? 'aborted' : awaiting ? 'awaiting_approval' : 'complete';
  const message: ChatMessage = {
    ...(response ?? { id: assistantMessageId, role: 'assistant', parts: [] }),
    id: assistantMessageId,
    metadata: { ...(response?.metadata ?? {}), model: model.modelId, status, usage, ...(failure ? { error: failure } : {}) } as MessageMetadata,
  };

  let charged = 0;
  try {
    const embedding = status === 'complete' ? await embedForRecall(message).catch(() => undefined) : undefined;
    const userEmbedding = args.userMessageId ? await userVector : undefined;
    const toolCalls: ToolCallRow[] = [];
    for (const p of message.parts) {
      if (!p.type.startsWith('tool-')) continue;
      const tp = p as { type: string; toolCallId: string; state: string; input?: unknown; output?: unknown; errorText?: string };
      toolCalls.push({ messageId: assistantMessageId, toolName: tp.type.slice(5), toolCallId: tp.toolCallId, state: tp.state, input: tp.input, output: tp.output, errorText: tp.errorText });
    }
    charged = await db().transaction(async (transaction) => {
      await storeTurnEnd(
        auth,
        {
          conversationId,
          message,
          embedding,
          userMessageId: args.userMessageId,
          userEmbedding,
          toolCalls,
          usage: {
            activityType: 'chat_turn',
            tokensUsed: usage.totalTokens,
            executionTimeSeconds: (performance.now() - started) / 1000,
            metadata: { conversationId, messageId: assistantMessageId, model: model.modelId, channel: args.channel, status, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, ...(auth.apiKeyId ? { apiKeyId: auth.apiKeyId } : {}) },
          },
        },
        transaction,
      );
      if (usage.totalTokens <= 0) return 0;
      const debit = await debitTokens(
        { tenantId: auth.tenantId, tokens: usage.totalTokens, operation: 'chat_turn', clampToBalance: true, metadata: { conversationId, messageId: assistantMessageId, model: model.modelId, userId: auth.userId } },
        transaction,
      );
      return -debit.amount;
    });
  } catch (err) {
    log.error({ err, conversationId }, 'storing the turn failed');
    failure ??= { code: 'internal_error', message: 'The reply could not be saved.' };
  }

  const result: TurnResult = { status, usage, charged, ...(failure ? { error: failure } : {}) };
  await hub.end(conversationId, seq).catch((err) => log.warn({ err }, 'hub end failed'));
  broadcaster?.done({ userId: auth.userId, conversationId, messageId: assistantMessageId, result });
  await args.release();
  return result;
}

/** Stop the conversation's turn (its partial reply is kept, marked aborted). */
export async function abortTurn(auth: AuthContext, conversationId: string): Promise<boolean> {
  const info = await turnHub().active(conversationId);
  if (!info || info.userId !== auth.userId) return false;
  return turnHub().abort(conversationId);
}

export { messageText };
