// The tokenizer behind usage figures, history budgets and knowledge-base chunks (gpt-tokenizer), checked
// against an independent implementation of the same encodings (js-tiktoken, a dev dependency only).
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { countTokens, decode, encode, truncateToTokens, type Encoding } from '../../src/agents/tokenizer.js';

const require = createRequire(import.meta.url);
const reference = (encoding: Encoding) => new Tiktoken(require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE);

const texts = [
  'Hello, world!',
  'The quarter closed above plan in every region, driven by renewals and a strong finish in June.',
  'ünïcödé — “quotes” and 日本語のテキスト, emoji 🎉👩‍💻, Ελληνικά, العربية',
  'const x = await fetch("https://example.com/api?q=1&r=2");\n\tif (!x.ok) throw new Error(`status ${x.status}`);',
  '    leading spaces\n\n\nand    runs   of\twhitespace   ',
  'special strings stay text: <|endoftext|> <|fim_prefix|> <|im_start|>',
  '1234567890 3.14159 1e-9 0xdeadbeef',
  'kakorita nemolusa videpo mirato befugali nazore sipadume '.repeat(40),
  '',
];

describe('tokenizer', () => {
  for (const encoding of ['cl100k_base', 'o200k_base'] as const) {
    it(`gives the same token ids as the reference implementation (${encoding})`, () => {
      const ref = reference(encoding);
      for (const text of texts) {
        const ids = encode(text, encoding);
        expect(ids).toEqual(ref.encode(text, [], []));
        expect(countTokens(text, encoding)).toBe(ids.length);
        expect(decode(ids, encoding)).toBe(text);
      }
    });
  }

  it('treats special-token strings in user text as plain text', () => {
    const ids = encode('<|endoftext|>');
    expect(ids.length).toBeGreaterThan(1); // not the single control token
    expect(decode(ids)).toBe('<|endoftext|>');
  });

  it('truncates on a token boundary to at most the limit', () => {
    const text = texts[1]!.repeat(5);
    const cut = truncateToTokens(text, 10);
    expect(countTokens(cut)).toBe(10);
    expect(text.startsWith(cut)).toBe(true);
    expect(truncateToTokens('short', 10)).toBe('short');
  });
});
