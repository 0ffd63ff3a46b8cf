// The fake OpenAI server as @ai-sdk/openai sees it: the same client code the app uses with a real key.
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, embedMany, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countTokens } from '../../src/agents/tokenizer.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';

let fake: FakeOpenAI;
let openai: ReturnType<typeof createOpenAI>;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'test' });
  openai = createOpenAI({ baseURL: fake.url, apiKey: 'test' });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.setScript([]);
  fake.requests.length = 0;
});

/** Every part of the full stream, and what the stream threw, if it did. */
async function collect(result: ReturnType<typeof streamText>) {
  const parts: { type: string; [k: string]: any }[] = [];
  try {
    for await (const part of result.fullStream) parts.push(part);
  } catch (thrown) {
    return { parts, thrown };
  }
  return { parts, thrown: undefined };
}
const quiet = { maxRetries: 0, onError: () => {} };

describe('fake OpenAI server', () => {
  it('streams scripted text in chunks and reports tiktoken usage', async () => {
    fake.setScript([{ text: 'Refunds are accepted within 30 days.', chunkSize: 8 }]);
    const result = streamText({ model: openai.chat('gpt-test'), system: 'Be brief.', prompt: 'Refund policy?' });
    const { parts } = await collect(result);

    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.text)).toEqual([
      'Refunds ', 'are acce', 'pted wit', 'hin 30 d', 'ays.',
    ]);
    expect(await result.text).toBe('Refunds are accepted within 30 days.');
    expect(await result.usage).toMatchObject({
      inputTokens: countTokens('Be brief.') + countTokens('Refund policy?'),
      outputTokens: countTokens('Refunds are accepted within 30 days.'),
    });
    expect(fake.requests[0]).toMatchObject({ model: 'gpt-test', stream: true, stream_options: { include_usage: true } });
  });

  it('echoes the user by default and answers non-streaming requests', async () => {
    const result = streamText({ model: openai.chat('gpt-test'), prompt: 'ping' });
    expect(await result.text).toBe('You said: ping');

    const res = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'pong' }] }),
    });
    const body = await res.json();
    expect(body.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'You said: pong' }, finish_reason: 'stop' });
    expect(body.usage).toMatchObject({ prompt_tokens: countTokens('pong'), completion_tokens: countTokens('You said: pong') });
  });

  it('plays a tool call, then answers once it sees the tool result', async () => {
    fake.setScript((body) =>
      body.messages.some((m) => m.role === 'tool')
        ? { text: 'It is 21°C in Lyon.' }
        : { toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }] },
    );
    const result = streamText({
      model: openai.chat('gpt-test'),
      prompt: 'Weather in Lyon?',
      tools: {
        get_weather: tool({
          description: 'Current weather for a city.',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, celsius: 21 }),
        }),
      },
      stopWhen: stepCountIs(3),
    });

    expect(await result.text).toBe('It is 21°C in Lyon.');
    const steps = await result.steps;
    expect(steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { city: 'Lyon' } });
    expect(steps[0]!.usage.outputTokens).toBe(countTokens('{"city":"Lyon"}'));
    const toolMessage = fake.requests[1]!.messages.find((m: { role: string }) => m.role === 'tool');
    expect(JSON.parse(toolMessage.content)).toEqual({ city: 'Lyon', celsius: 21 });
    expect(fake.requests[0]!.tools[0].function.name).toBe('get_weather');
  });

  it.each([
    [429, 'Rate limit reached for requests'],
    [500, 'The server had an error while processing your request.'],
  ])('surfaces an HTTP %i as an API call error', async (status, message) => {
    fake.setScript([{ error: { status, message } }]);
    const { parts } = await collect(streamText({ model: openai.chat('gpt-test'), prompt: 'hi', ...quiet }));
    const error = parts.find((p) => p.type === 'error')?.error;
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: status, message });
  });

  it('rejects a wrong API key with 401', async () => {
    const wrong = createOpenAI({ baseURL: fake.url, apiKey: 'nope' });
    const { parts } = await collect(streamText({ model: wrong.chat('gpt-test'), prompt: 'hi', ...quiet }));
    expect(parts.find((p) => p.type === 'error')?.error).toMatchObject({ statusCode: 401 });
    expect(fake.requests).toHaveLength(0);
  });

  it('surfaces a connection dropped mid-stream as an error after the text already sent', async () => {
    fake.setScript([{ failAfterChunks: 3, text: 'one two three four five six' }]);
    const { parts, thrown } = await collect(streamText({ model: openai.chat('gpt-test'), prompt: 'hi', ...quiet }));
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('')).toBe('one two three');
    expect(APICallError.isInstance(thrown)).toBe(true);
    expect((thrown as APICallError).cause).toMatchObject({ message: 'terminated' });
    expect(parts.some((p) => p.type === 'finish-step')).toBe(false);
  });

  it('streams slowly at the scripted rate', async () => {
    fake.setScript([{ text: 'a'.repeat(50), chunkSize: 10, delayMs: 40 }]);
    const started = Date.now();
    const arrivals: number[] = [];
    for await (const part of streamText({ model: openai.chat('gpt-test'), prompt: 'hi' }).fullStream)
      if (part.type === 'text-delta') arrivals.push(Date.now() - started);
    expect(arrivals).toHaveLength(5);
    // The server waits 40 ms between chunks; under load deliveries may bunch, but the last cannot come sooner.
    expect(arrivals[4]!).toBeGreaterThanOrEqual(4 * 40 - 10);
  });

  it('stops streaming when the client aborts, and keeps serving', async () => {
    fake.setScript([{ text: 'x'.repeat(100), chunkSize: 5, delayMs: 20 }]);
    const controller = new AbortController();
    const result = streamText({ model: openai.chat('gpt-test'), prompt: 'hi', abortSignal: controller.signal, ...quiet });
    let deltas = 0;
    for await (const part of result.fullStream) if (part.type === 'text-delta' && ++deltas === 2) controller.abort();
    expect(deltas).toBeLessThan(5);

    await new Promise((r) => setTimeout(r, 100)); // the server would have written into the closed socket by now
    expect(await streamText({ model: openai.chat('gpt-test'), prompt: 'still there?' }).text).toBe('You said: still there?');
  });

  it('returns deterministic embeddings of the requested size, closer for texts that share words', async () => {
    const model = openai.embedding('e');
    const texts = ['refund policy for customers', 'customers refund policy', 'quarterly revenue chart'];
    const { embeddings } = await embedMany({ model, values: texts });
    const again = await embedMany({ model, values: texts });

    expect(embeddings).toHaveLength(3);
    expect(embeddings[0]).toHaveLength(384);
    expect(again.embeddings).toEqual(embeddings);
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(cos(embeddings[0]!, embeddings[1]!)).toBeGreaterThan(0.8);
    expect(cos(embeddings[0]!, embeddings[2]!)).toBeLessThan(0.3);

    const small = await embedMany({
      model,
      values: ['x'],
      providerOptions: { openai: { dimensions: 16 } },
    });
    expect(small.embeddings[0]).toHaveLength(16);
  });
});
