// The model FlowSpark uses when no real one is configured (no OPENAI_API_KEY / OPENAI_BASE_URL). It is a
// genuine AI SDK LanguageModelV3, so the agent's streaming turn, tool loop, approvals and usage accounting
// run unchanged, but it is NOT a language model and says so: it picks a tool with the registry's intent
// patterns, fills arguments with the tool's own extractor, and answers from tool results with the tool's
// `describe`. Everything is deterministic (same prompt → same parts), which also makes it the fake model
// for end-to-end tests.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3FunctionTool,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3ToolResultPart,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import type { ToolDefinition } from '../tools/registry.js';
import { countTokens } from './tokenizer.js';

export interface OfflineModelOptions {
  /** The tool registry; read on every call. Only tools also offered in the call's `tools` are used. */
  tools: () => ToolDefinition[];
  /** Pause between streamed chunks (ms), to behave like a model in demos and benchmarks. Default 0. */
  delayMs?: number;
}

/** The parts of a tool's JSON schema we read (the provider's JSONSchema7 type is untyped here). */
type ObjectSchema = { required?: string[]; properties?: Record<string, { description?: string } | boolean> };

type Reply =
  | { type: 'text'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: string };

export function createOfflineModel(opts: OfflineModelOptions): LanguageModelV3 {
  const delayMs = opts.delayMs ?? 0;

  function run(options: LanguageModelV3CallOptions) {
    if (options.abortSignal?.aborted) throw abortError(options.abortSignal);
    const reply = decide(options, opts.tools());
    const output = reply.type === 'text' ? reply.text : reply.input;
    const usage = toUsage(promptTokens(options.prompt), countTokens(output));
    const finishReason: LanguageModelV3FinishReason =
      reply.type === 'text' ? { unified: 'stop', raw: 'stop' } : { unified: 'tool-calls', raw: 'tool-calls' };
    const id = `offline-${hash(JSON.stringify(options.prompt))}`;
    const metadata = { id, modelId: 'offline', timestamp: new Date() };
    return { reply, usage, finishReason, metadata };
  }

  return {
    specificationVersion: 'v3',
    provider: 'flowspark',
    modelId: 'offline',
    supportedUrls: {},

    async doGenerate(options) {
      const { reply, usage, finishReason, metadata } = run(options);
      const content: LanguageModelV3Content[] =
        reply.type === 'text' ? [{ type: 'text', text: reply.text }] : [reply];
      return { content, finishReason, usage, warnings: [], response: metadata };
    },

    async doStream(options) {
      const { reply, usage, finishReason, metadata } = run(options);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', ...metadata },
      ];
      if (reply.type === 'text') {
        parts.push({ type: 'text-start', id: 'txt-0' });
        for (const delta of words(reply.text)) parts.push({ type: 'text-delta', id: 'txt-0', delta });
        parts.push({ type: 'text-end', id: 'txt-0' });
      } else {
        const id = reply.toolCallId;
        parts.push(
          { type: 'tool-input-start', id, toolName: reply.toolName },
          { type: 'tool-input-delta', id, delta: reply.input },
          { type: 'tool-input-end', id },
          reply,
        );
      }
      parts.push({ type: 'finish', finishReason, usage });
      return { stream: replay(parts, delayMs, options.abortSignal) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Deciding what to say

function decide(options: LanguageModelV3CallOptions, registry: ToolDefinition[]): Reply {
  const { prompt } = options;
  let userIndex = prompt.length - 1;
  while (userIndex >= 0 && prompt[userIndex]!.role !== 'user') userIndex--;
  const user = prompt[userIndex];
  const userText = user?.role === 'user' ? textOf(user.content) : '';
  const since = prompt.slice(userIndex + 1);

  const results = since.flatMap((m) =>
    m.role === 'tool' || m.role === 'assistant'
      ? m.content.filter((p): p is LanguageModelV3ToolResultPart => p.type === 'tool-result')
      : [],
  );
  if (results.length) return { type: 'text', text: answerFromResults(results, registry) };

  const offered = (options.tools ?? []).filter((t): t is LanguageModelV3FunctionTool => t.type === 'function');
  const choice = options.toolChoice;
  const callable =
    choice?.type === 'none'
      ? []
      : choice?.type === 'tool'
        ? offered.filter((t) => t.name === choice.toolName)
        : offered;
  const def = registry.find(
    (d) => callable.some((t) => t.name === d.name) && d.intents.patterns.some((p) => userText.search(p) >= 0),
  );
  if (!def) return { type: 'text', text: introduction(offered, registry, systemText(prompt)) };

  const args = def.intents.extract ? def.intents.extract(userText) : {};
  if (!args || !def.inputSchema.safeParse(args).success) {
    const schema = offered.find((t) => t.name === def.name)!.inputSchema as ObjectSchema;
    return { type: 'text', text: askForArguments(def, schema, args ?? {}) };
  }
  const step = since.filter((m) => m.role === 'assistant').length;
  return {
    type: 'tool-call',
    toolCallId: `call_${hash(`${userIndex}\n${userText}\n${step}`)}`,
    toolName: def.name,
    input: JSON.stringify(args),
  };
}

function askForArguments(def: ToolDefinition, schema: ObjectSchema, given: Record<string, unknown>): string {
  const missing = (schema.required ?? []).filter((name) => given[name] === undefined);
  const describe = (name: string) => {
    const prop = schema.properties?.[name];
    const about = typeof prop === 'object' && prop.description ? ` (${prop.description})` : '';
    return `${humanize(name)}${about}`;
  };
  const need = missing.length ? `I need ${listing(missing.map(describe))}` : 'I could not work out its details';
  return `I can do that with ${def.title}, but ${need}. Please say it in your message and I'll run it.`;
}

function introduction(offered: LanguageModelV3FunctionTool[], registry: ToolDefinition[], system: string): string {
  const lines = [
    "I'm FlowSpark's built-in offline assistant, not a language model, so I can't hold a free-form conversation.",
  ];
  if (offered.length) {
    lines.push('I can run these tools when your message asks for one:');
    for (const t of offered) {
      const def = registry.find((d) => d.name === t.name);
      lines.push(`- ${def?.title ?? t.name}: ${firstSentence(def?.description ?? t.description ?? '')}`);
    }
  } else {
    lines.push('No tools are enabled for this conversation.');
  }
  const { preferences, passages } = remembered(system);
  if (preferences.length) lines.push(`I remember: ${preferences.slice(0, 3).map((p) => clip(p, 120)).join('; ')}.`);
  if (passages)
    lines.push(`I have ${plural(passages, 'related passage')} from your knowledge base but can't summarise them.`);
  lines.push('To chat with a real model, set OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server).');
  return lines.join('\n');
}

/**
 * Items under system-prompt sections about remembered preferences or recalled passages. A section starts at
 * a markdown heading or a line ending in ':'; items are lines starting with '-', '*', '1.' or '[1]'.
 */
function remembered(system: string): { preferences: string[]; passages: number } {
  const preferences: string[] = [];
  let passages = 0;
  let section = '';
  for (const line of system.split('\n')) {
    const heading = /^#{1,6}\s+(.+)$/.exec(line) ?? /^([^-*\s[].{0,80}):\s*$/.exec(line);
    if (heading) {
      section = heading[1]!;
      continue;
    }
    const item = /^\s*(?:[-*•]|\d+[.)]|\[\d+\])\s+(.+)$/.exec(line)?.[1];
    if (!item) continue;
    if (/prefer|remember|memor/i.test(section)) preferences.push(item.trim());
    else if (/recall|passage|excerpt|knowledge/i.test(section)) passages++;
  }
  return { preferences, passages };
}

function answerFromResults(results: LanguageModelV3ToolResultPart[], registry: ToolDefinition[]): string {
  const sources: string[] = [];
  const paragraphs = results.map((r) => {
    const def = registry.find((d) => d.name === r.toolName);
    const title = def?.title ?? r.toolName;
    const output = r.output;
    switch (output.type) {
      case 'execution-denied':
        return `I did not run ${title}: ${output.reason ?? 'the call was not approved'}.`;
      case 'error-text':
        return `${title} failed: ${clip(output.value, 300)}`;
      case 'error-json':
        return `${title} failed: ${errorMessage(output.value)}`;
      default: {
        const value = outputValue(output);
        collectCitations(value, sources);
        const described = def?.intents.describe && tryDescribe(def.intents.describe, value);
        return described ?? `${title} returned:\n${clip(render(value), 1200)}`;
      }
    }
  });
  if (sources.length) paragraphs.push(`Sources:\n${sources.slice(0, 10).map((s, i) => `[${i + 1}] ${s}`).join('\n')}`);
  return paragraphs.join('\n\n');
}

function outputValue(output: LanguageModelV3ToolResultOutput): unknown {
  if (output.type === 'content')
    return output.value.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
  return 'value' in output ? output.value : undefined;
}

function tryDescribe(describe: (output: any) => string, value: unknown): string | undefined {
  try {
    return describe(value) || undefined;
  } catch {
    return undefined; // an output the tool did not expect (e.g. from an older version): fall back to rendering
  }
}

function errorMessage(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value && typeof value.message === 'string')
    return clip(value.message, 300);
  return clip(render(value), 300);
}

/** Citations anywhere in the output: objects with `title` + `page` or `documentTitle` + `pageNumber`. */
function collectCitations(value: unknown, into: string[], depth = 0): void {
  if (!value || typeof value !== 'object' || depth > 6) return;
  if (Array.isArray(value)) return value.forEach((v) => collectCitations(v, into, depth + 1));
  const o = value as Record<string, unknown>;
  const title = o.documentTitle ?? o.title;
  const page = o.pageNumber ?? o.page;
  if (typeof title === 'string' && (typeof page === 'number' || typeof page === 'string')) {
    const entry = `${title}, p. ${page}`;
    if (!into.includes(entry)) into.push(entry);
    return;
  }
  for (const v of Object.values(o)) collectCitations(v, into, depth + 1);
}

/** A compact, readable rendering of a JSON value: bullet lines at the top, inline below, long parts cut. */
function render(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return clip(value, depth ? 120 : 800);
  if (typeof value !== 'object') return String(value);
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((v) => [undefined, v])
    : Object.entries(value);
  if (!entries.length) return Array.isArray(value) ? 'no items' : 'nothing';
  if (depth >= 2) return Array.isArray(value) ? `${entries.length} items` : '{…}';
  const max = depth ? 4 : 8;
  const shown = entries.slice(0, max).map(([k, v]) => (k === undefined ? '' : `${k}: `) + render(v, depth + 1));
  const more = entries.length > max ? `…and ${entries.length - max} more` : undefined;
  if (more) shown.push(more);
  if (depth) return Array.isArray(value) ? `[${shown.join(', ')}]` : `{${shown.join(', ')}}`;
  const bullets = shown.map((s) => `- ${s}`).join('\n');
  return Array.isArray(value) ? `${plural(entries.length, 'item')}:\n${bullets}` : bullets;
}

// ---------------------------------------------------------------------------------------------------------
// Prompt text, usage and streaming

function textOf(content: ReadonlyArray<{ type: string; text?: string }>): string {
  return content.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n');
}

function systemText(prompt: LanguageModelV3Prompt): string {
  return prompt.flatMap((m) => (m.role === 'system' ? [m.content] : [])).join('\n');
}

/** Tokens of every piece of text in the prompt, each counted on its own (system, text, tool input/output). */
function promptTokens(prompt: LanguageModelV3Prompt): number {
  let total = 0;
  for (const m of prompt) {
    if (m.role === 'system') {
      total += countTokens(m.content);
      continue;
    }
    for (const p of m.content) {
      if (p.type === 'text' || p.type === 'reasoning') total += countTokens(p.text);
      else if (p.type === 'tool-call') total += countTokens(JSON.stringify(p.input ?? null));
      else if (p.type === 'tool-result') {
        const value = outputValue(p.output);
        total += countTokens(typeof value === 'string' ? value : JSON.stringify(value ?? null));
      }
    }
  }
  return total;
}

function toUsage(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
    raw: { prompt_tokens: input, completion_tokens: output },
  };
}

/** Emit parts on demand; an abort ends the stream with an AbortError, as a provider's fetch body would. */
function replay(parts: LanguageModelV3StreamPart[], delayMs: number, signal?: AbortSignal) {
  let i = 0;
  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      try {
        if (delayMs > 0 && parts[i]?.type === 'text-delta') await sleep(delayMs, undefined, { signal });
        if (signal?.aborted) throw abortError(signal);
      } catch (error) {
        return controller.error(signal?.aborted ? abortError(signal) : error);
      }
      const part = parts[i++];
      if (part) controller.enqueue(part);
      else controller.close();
    },
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && (reason.name === 'AbortError' || reason.name === 'TimeoutError')) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

// ---------------------------------------------------------------------------------------------------------
// Small text helpers

/** Word-sized chunks that concatenate back to `text` exactly. */
function words(text: string): string[] {
  return text.split(/(?<=\S)(?=\s)/).filter(Boolean);
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`);
const firstSentence = (s: string) => clip(/^[^\n]*?[.!?](?=\s|$)/.exec(s)?.[0] ?? s.split('\n')[0]!, 140);
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const humanize = (name: string) => name.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
const listing = (items: string[]) =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
