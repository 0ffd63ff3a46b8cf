// Token counting with OpenAI's BPE encodings, for usage figures, history budgets and knowledge-base
// chunks. gpt-tokenizer rather than js-tiktoken: the same token ids (checked in tests/agents/tokenizer.test.ts),
// 5–20× faster (a 200-page manual's chunking went from about 10 s of CPU to under 1 s). The rank tables are
// megabytes of data, so each encoding is loaded (synchronously, from the CommonJS build) on first use.
import { createRequire } from 'node:module';

export type Encoding = 'cl100k_base' | 'o200k_base';

interface Encoder {
  encode(text: string, options: { allowedSpecial?: Set<string>; disallowedSpecial?: Set<string> }): number[];
  decode(tokens: number[]): string;
  countTokens(text: string, options: { allowedSpecial?: Set<string>; disallowedSpecial?: Set<string> }): number;
}

const require = createRequire(import.meta.url);
const encoders = new Map<Encoding, Encoder>();

function encoder(encoding: Encoding): Encoder {
  let enc = encoders.get(encoding);
  if (!enc) {
    enc = require(`gpt-tokenizer/cjs/encoding/${encoding}`) as Encoder;
    encoders.set(encoding, enc);
  }
  return enc;
}

// Special-token strings such as `<|endoftext|>` in user text are plain text, never control tokens.
const PLAIN = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

/** Token ids of `text`. Special-token strings such as `<|endoftext|>` are encoded as plain text. */
export function encode(text: string, encoding: Encoding = 'cl100k_base'): number[] {
  return encoder(encoding).encode(text, PLAIN);
}

export function decode(tokens: number[], encoding: Encoding = 'cl100k_base'): string {
  return encoder(encoding).decode(tokens);
}

export function countTokens(text: string, encoding: Encoding = 'cl100k_base'): number {
  return text ? encoder(encoding).countTokens(text, PLAIN) : 0;
}

/** The longest prefix of `text` that fits in `maxTokens` (cut on a token boundary). */
export function truncateToTokens(text: string, maxTokens: number, encoding: Encoding = 'cl100k_base'): string {
  // Every token is at least one UTF-8 byte: a text with no more bytes than the limit fits without encoding.
  if (Buffer.byteLength(text, 'utf8') <= maxTokens) return text;
  const tokens = encode(text, encoding);
  return tokens.length <= maxTokens ? text : decode(tokens.slice(0, Math.max(0, maxTokens)), encoding);
}
