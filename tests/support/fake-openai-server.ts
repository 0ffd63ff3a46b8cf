// A local OpenAI-compatible server for tests and benchmarks: Chat Completions (streamed as SSE in OpenAI's
// exact chunk format, or not) and Embeddings. Replies are scripted — a queue or a function of the request —
// so a test can play a tool call, then text, a rate limit, or a connection that dies mid-stream. It is the
// process boundary our code talks to through @ai-sdk/openai, so nothing of ours is faked.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { countTokens } from '../../src/agents/tokenizer.js';

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type FakeResponse =
  /** Text streamed `chunkSize` characters at a time (default: word by word), `delayMs` apart. */
  | { text: string; chunkSize?: number; delayMs?: number; usage?: FakeUsage }
  | { toolCalls: { name: string; arguments: string | Record<string, unknown>; id?: string }[]; usage?: FakeUsage }
  /** An HTTP error with OpenAI's error body, e.g. 429 rate_limit_exceeded or 500 server_error. */
  | { error: { status: number; message: string; type?: string; code?: string } }
  /** Stream `n` chunks of `text` (default: a long filler), then destroy the socket. */
  | { failAfterChunks: number; text?: string; chunkSize?: number; delayMs?: number };

/** A queue (used in order, then the default reply) or a function of the request body. */
export type FakeScript = FakeResponse[] | ((body: ChatRequest) => FakeResponse | undefined);

export interface ChatRequest {
  model: string;
  messages: { role: string; content?: unknown; tool_calls?: { function: { arguments: string } }[] }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: 'function'; function: { name: string } }[];
  [key: string]: unknown;
}

export interface FakeOpenAIOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  script?: FakeScript;
  /** Embedding size when the request names no `dimensions`. Default 384 (EMBEDDING_DIMENSIONS's default). */
  dimensions?: number;
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, for `createOpenAI({ baseURL })`. */
  url: string;
  /** Parsed JSON bodies of every request received (chat and embeddings), in order. */
  requests: Record<string, any>[];
  setScript(script: FakeScript): void;
  close(): Promise<void>;
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let script: FakeScript = opts.script ?? [];
  const requests: Record<string, any>[] = [];

  const server = createServer(async (req, res) => {
    try {
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`)
        return sendError(res, { status: 401, message: 'Incorrect API key provided.', code: 'invalid_api_key' });
      if (req.method !== 'POST') return sendError(res, { status: 405, message: `${req.method} is not allowed.` });
      const body = JSON.parse((await readBody(req)) || '{}');
      requests.push(body);
      if (req.url === '/v1/chat/completions') {
        const next = Array.isArray(script) ? script.shift() : script(body);
        return await chat(res, body, next ?? { text: defaultReply(body) });
      }
      if (req.url === '/v1/embeddings') return sendJson(res, 200, embeddings(body, opts.dimensions ?? 384));
      sendError(res, { status: 404, message: `Unknown path ${req.url}.`, type: 'invalid_request_error' });
    } catch (error) {
      if (!res.headersSent) sendError(res, { status: 400, message: String(error), type: 'invalid_request_error' });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setScript: (next) => void (script = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Chat Completions

async function chat(res: ServerResponse, body: ChatRequest, reply: FakeResponse) {
  if ('error' in reply) return sendError(res, reply.error);
  const id = `chatcmpl-${createHash('sha256').update(JSON.stringify(body.messages)).digest('hex').slice(0, 24)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model;
  const toolCalls =
    'toolCalls' in reply
      ? reply.toolCalls.map((c, i) => ({
          id: c.id ?? `call_${id.slice(9, 21)}_${i}`,
          type: 'function' as const,
          function: {
            name: c.name,
            arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
          },
        }))
      : undefined;
  const text = 'text' in reply ? (reply.text ?? '') : 'failAfterChunks' in reply ? filler : '';
  const completion = toolCalls ? toolCalls.map((c) => c.function.arguments).join('') : text;
  const usage = usageOf(('usage' in reply && reply.usage) || undefined, body, completion);
  const finish_reason = toolCalls ? 'tool_calls' : 'stop';

  if (!body.stream) {
    if ('failAfterChunks' in reply) return res.destroy();
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: toolCalls ? null : text,
            refusal: null,
            ...(toolCalls && { tool_calls: toolCalls }),
          },
          logprobs: null,
          finish_reason,
        },
      ],
      usage,
      system_fingerprint: 'fp_fake',
    });
  }

  const withUsage = body.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const head = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
  const chunk = (rest: object) => res.write(`data: ${JSON.stringify({ ...head, ...rest })}\n\n`);
  const send = (delta: object, finish: string | null = null) =>
    chunk({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(withUsage && { usage: null }) });

  send({ role: 'assistant', content: toolCalls ? null : '', refusal: null });
  if (toolCalls) {
    toolCalls.forEach((c, index) => {
      send({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] });
      for (const part of chunks(c.function.arguments, 16))
        send({ tool_calls: [{ index, function: { arguments: part } }] });
    });
  } else {
    const { chunkSize, delayMs = 0 } = reply as { chunkSize?: number; delayMs?: number };
    const failAfter = 'failAfterChunks' in reply ? reply.failAfterChunks : Infinity;
    let sent = 0;
    for (const part of chunks(text, chunkSize)) {
      if (res.destroyed) return; // the client went away (aborted)
      if (sent === failAfter) break;
      if (delayMs && sent) await sleep(delayMs);
      send({ content: part });
      sent++;
    }
    if ('failAfterChunks' in reply) {
      // Let what was sent reach the client first (an SSE comment is ignored by parsers), then cut the line.
      await new Promise<void>((resolve) => res.write(': flush\n\n', () => resolve()));
      return res.socket?.destroy();
    }
  }
  send({}, finish_reason);
  if (withUsage) chunk({ choices: [], usage });
  res.end('data: [DONE]\n\n');
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const filler = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');

function defaultReply(body: ChatRequest): string {
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
  return `You said: ${lastUser ? contentText(lastUser.content) : ''}`;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('\n');
  return '';
}

/** Scripted usage, or tokens of every message's text and tool-call arguments, and of what was written. */
function usageOf(scripted: FakeUsage | undefined, body: ChatRequest, completion: string) {
  const messageTokens = (m: ChatRequest['messages'][number]) =>
    countTokens(contentText(m.content)) + sum((m.tool_calls ?? []).map((c) => countTokens(c.function.arguments)));
  const prompt_tokens = scripted?.prompt_tokens ?? sum(body.messages.map(messageTokens));
  const completion_tokens = scripted?.completion_tokens ?? countTokens(completion);
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens: prompt_tokens + completion_tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** `size` characters at a time, or word by word (leading space kept) when no size is given. */
function chunks(text: string, size?: number): string[] {
  if (!size) return text.split(/(?<=\S)(?=\s)/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Embeddings

/**
 * Deterministic unit vectors by feature hashing: each lower-cased word adds ±1 to a hashed dimension, so
 * texts that share words are close in cosine distance (good enough for retrieval tests). A text with no
 * words gets a vector seeded from its hash.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const tokens = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const token of tokens) {
    const h = createHash('sha256').update(token).digest();
    v[h.readUInt32BE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function embeddings(body: { model?: string; input?: string | string[]; dimensions?: number }, dimensions: number) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
  const size = body.dimensions ?? dimensions;
  const tokens = sum(inputs.map((t) => countTokens(String(t))));
  return {
    object: 'list',
    data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(String(text), size) })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, e: { status: number; message: string; type?: string; code?: string }) {
  const type = e.type ?? (e.status === 429 ? 'requests' : e.status >= 500 ? 'server_error' : 'invalid_request_error');
  const code = e.code ?? (e.status === 429 ? 'rate_limit_exceeded' : null);
  sendJson(res, e.status, { error: { message: e.message, type, param: null, code } });
}
