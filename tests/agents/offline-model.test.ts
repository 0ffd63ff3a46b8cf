// The offline model driven through the AI SDK's real streamText loop, with sample registry tools.
import { stepCountIs, streamText, tool, type ToolSet } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOfflineModel } from '../../src/agents/offline-model.js';
import { countTokens } from '../../src/agents/tokenizer.js';
import { defineTool, type ToolContext, type ToolDefinition } from '../../src/tools/registry.js';

const searchKnowledgeBase = defineTool({
  name: 'search_knowledge_base',
  title: 'Search knowledge base',
  description: "Search the team's documents. Returns passages with their page numbers.",
  inputSchema: z.object({ query: z.string().min(1).describe('What to look for') }),
  outputSchema: z.object({
    passages: z.array(z.object({ documentTitle: z.string(), pageNumber: z.number(), text: z.string() })),
  }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(search|look up|find)\b/i],
    extract: (text) => {
      const query = /\b(?:search|look up|find)\b(?:\s+the\s+knowledge\s+base)?(?:\s+for)?\s+(.+?)[.?!]?$/i.exec(text)?.[1];
      return query ? { query } : undefined;
    },
    describe: (out: { passages: unknown[] }) => `I found ${out.passages.length} passages.`,
  },
  async execute({ query }) {
    return {
      passages: [
        { documentTitle: 'Employee handbook', pageNumber: 4, text: `About ${query}: refunds within 30 days.` },
        { documentTitle: 'Finance FAQ', pageNumber: 12, text: 'Refunds go back to the original card.' },
      ],
    };
  },
});

const getTokenBalance = defineTool({
  name: 'get_token_balance',
  title: 'Token balance',
  description: 'Show how many AI tokens the team has left.',
  inputSchema: z.object({}),
  outputSchema: z.object({ balance: z.number(), plan: z.string() }),
  minRole: 'member',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: { patterns: [/\b(balance|tokens left)\b/i] },
  async execute() {
    return { balance: 12_000, plan: 'team' };
  },
});

const createInvoice = defineTool({
  name: 'create_invoice',
  title: 'Create invoice',
  description: 'Create an invoice for a customer.',
  inputSchema: z.object({
    customer: z.string().describe('Who to bill'),
    amount: z.number().positive().describe('Amount in euros'),
  }),
  outputSchema: z.object({ id: z.string() }),
  minRole: 'manager',
  readOnly: false,
  destructive: false,
  idempotent: false,
  needsApproval: false,
  intents: {
    patterns: [/\binvoice\b/i],
    extract: (text) => {
      const customer = /\bfor\s+([A-Z][\w&]*)/.exec(text)?.[1];
      const amount = /(\d+(?:\.\d+)?)\s*(?:€|eur)/i.exec(text)?.[1];
      return customer ? { customer, ...(amount && { amount: Number(amount) }) } : undefined;
    },
  },
  async execute() {
    throw new Error('Billing is not set up for this team.');
  },
});

const registry: ToolDefinition[] = [searchKnowledgeBase, getTokenBalance, createInvoice];
const ctx: ToolContext = { tenantId: 't1', userId: 'u1', role: 'owner', channel: 'web' };
const tools: ToolSet = Object.fromEntries(
  registry.map((d) => [d.name, tool({ description: d.description, inputSchema: d.inputSchema, execute: (input) => d.execute(input, ctx) })]),
);
const system = 'You are FlowSpark.';

async function turn(prompt: string, opts: { system?: string; abortSignal?: AbortSignal; delayMs?: number } = {}) {
  const model = createOfflineModel({ tools: () => registry, delayMs: opts.delayMs });
  const result = streamText({
    model,
    system: opts.system ?? system,
    prompt,
    tools,
    stopWhen: stepCountIs(3),
    abortSignal: opts.abortSignal,
  });
  const parts: { type: string; [k: string]: unknown }[] = [];
  for await (const part of result.fullStream) parts.push(part);
  return { result, parts, steps: await result.steps, text: await result.text };
}

describe('offline model', () => {
  it('calls the tool a message asks for and answers from its result, citing sources', async () => {
    const { steps, text, parts } = await turn('Please search the knowledge base for refund policy');

    expect(steps).toHaveLength(2);
    expect(steps[0]!.finishReason).toBe('tool-calls');
    expect(steps[0]!.toolCalls).toEqual([
      expect.objectContaining({ toolName: 'search_knowledge_base', input: { query: 'refund policy' } }),
    ]);
    expect(steps[0]!.toolCalls[0]!.toolCallId).toMatch(/^call_[0-9a-f]+$/);
    expect(steps[0]!.toolResults[0]!.output).toMatchObject({ passages: expect.any(Array) });
    expect(steps[1]!.finishReason).toBe('stop');
    expect(text).toBe('I found 2 passages.\n\nSources:\n[1] Employee handbook, p. 4\n[2] Finance FAQ, p. 12');
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(5);
  });

  it('calls a tool that needs no arguments and renders its output when the tool has no describe', async () => {
    const { steps, text } = await turn("What's our token balance?");
    expect(steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'get_token_balance', input: {} });
    expect(text).toBe('Token balance returned:\n- balance: 12000\n- plan: team');
  });

  it('asks for the arguments it cannot extract instead of calling the tool', async () => {
    const { steps, text } = await turn('Make an invoice for ACME please');
    expect(steps).toHaveLength(1);
    expect(steps[0]!.toolCalls).toEqual([]);
    expect(text).toBe(
      "I can do that with Create invoice, but I need amount (Amount in euros). Please say it in your message and I'll run it.",
    );
  });

  it('reports a failed tool call in plain words', async () => {
    const { steps, text } = await turn('Make an invoice for ACME of 120 EUR');
    expect(steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'create_invoice', input: { customer: 'ACME', amount: 120 } });
    expect(text).toBe('Create invoice failed: Billing is not set up for this team.');
  });

  it('says it is not a language model, lists its tools and how to enable one, when nothing matches', async () => {
    const { steps, text } = await turn('Hello! How are you today?', {
      system: `${system}\n\n## Remembered preferences\n- Prefers answers in French\n- Works in Lyon`,
    });
    expect(steps).toHaveLength(1);
    expect(text).toContain('not a language model');
    expect(text).toContain("- Search knowledge base: Search the team's documents.");
    expect(text).toContain('- Token balance: Show how many AI tokens the team has left.');
    expect(text).toContain('- Create invoice: Create an invoice for a customer.');
    expect(text).toContain('I remember: Prefers answers in French; Works in Lyon.');
    expect(text).toContain('OPENAI_API_KEY');
    expect(text).toContain('OPENAI_BASE_URL');
  });

  it('reports usage as tiktoken counts of the prompt and of what it wrote', async () => {
    const question = 'Hello! How are you today?';
    const chat = await turn(question);
    expect(chat.steps[0]!.usage).toMatchObject({
      inputTokens: countTokens(system) + countTokens(question),
      outputTokens: countTokens(chat.text),
    });

    const search = await turn('search for refund policy');
    expect(search.steps[0]!.usage).toMatchObject({
      inputTokens: countTokens(system) + countTokens('search for refund policy'),
      outputTokens: countTokens(JSON.stringify({ query: 'refund policy' })),
    });
    expect(search.steps[1]!.usage.outputTokens).toBe(countTokens(search.text));
    expect((await search.result.totalUsage).outputTokens).toBe(
      search.steps[0]!.usage.outputTokens! + search.steps[1]!.usage.outputTokens!,
    );
  });

  it('is deterministic: the same conversation gives the same parts', async () => {
    const strip = (parts: { type: string; [k: string]: unknown }[]) =>
      parts.map(({ timestamp, response, request, ...rest }) => rest);
    const a = await turn('search for refund policy');
    const b = await turn('search for refund policy');
    expect(strip(b.parts)).toEqual(strip(a.parts));
    expect(b.steps[0]!.toolCalls[0]!.toolCallId).toBe(a.steps[0]!.toolCalls[0]!.toolCallId);
  });

  it('explains a call the user denied (doGenerate)', async () => {
    const model = createOfflineModel({ tools: () => registry });
    const { content, finishReason } = await model.doGenerate({
      prompt: [
        { role: 'user', content: [{ type: 'text', text: 'Make an invoice for ACME of 120 EUR' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'create_invoice', input: { customer: 'ACME', amount: 120 } }],
        },
        {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'create_invoice', output: { type: 'execution-denied' } }],
        },
      ],
    });
    expect(finishReason).toEqual({ unified: 'stop', raw: 'stop' });
    expect(content).toEqual([{ type: 'text', text: 'I did not run Create invoice: the call was not approved.' }]);
  });

  it('stops streaming when the turn is aborted', async () => {
    const controller = new AbortController();
    const model = createOfflineModel({ tools: () => registry, delayMs: 20 });
    const result = streamText({ model, system, prompt: 'Hello there', tools, abortSignal: controller.signal });
    const deltas: string[] = [];
    const types: string[] = [];
    for await (const part of result.fullStream) {
      types.push(part.type);
      if (part.type === 'text-delta') {
        deltas.push(part.text);
        if (deltas.length === 3) controller.abort();
      }
    }
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.length).toBeLessThan(6);
    expect(types).toContain('abort');
    expect(types).not.toContain('finish-step');
  });
});
