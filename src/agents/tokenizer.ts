// Token counting with OpenAI's BPE encodings, for usage figures and history budgets. The rank tables are
// megabytes of data, so each encoding is loaded (synchronously, from js-tiktoken's CommonJS build) and
// built only on first use.
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export type Encoding = 'cl100k_base' | 'o200k_base';

const require = createRequire(import.meta.url);
const encoders = new Map<Encoding, Tiktoken>();

function encoder(encoding: Encoding): Tiktoken {
  let enc = encoders.get(encoding);
  if (!enc) {
    enc = new Tiktoken(require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE);
    encoders.set(encoding, enc);
  }
  return enc;
}

/** Token ids of `text`. Special-token strings such as `<|endoftext|>` are encoded as plain text. */
export function encode(text: string, encoding: Encoding = 'cl100k_base'): number[] {
  return encoder(encoding).encode(text, [], []);
}

export function decode(tokens: number[], encoding: Encoding = 'cl100k_base'): string {
  return encoder(encoding).decode(tokens);
}

export function countTokens(text: string, encoding: Encoding = 'cl100k_base'): number {
  return text ? encode(text, encoding).length : 0;
}

/** The longest prefix of `text` that fits in `maxTokens` (cut on a token boundary). */
export function truncateToTokens(text: string, maxTokens: number, encoding: Encoding = 'cl100k_base'): string {
  // Every token is at least one UTF-8 byte: a text with no more bytes than the limit fits without encoding.
  if (Buffer.byteLength(text, 'utf8') <= maxTokens) return text;
  const tokens = encode(text, encoding);
  return tokens.length <= maxTokens ? text : decode(tokens.slice(0, Math.max(0, maxTokens)), encoding);
}
