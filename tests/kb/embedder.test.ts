import { describe, expect, it } from 'vitest';
import { createOfflineEmbedder } from '../../src/kb/offline-embedder.js';
import { countTokens } from '../../src/agents/tokenizer.js';
import { AppError } from '../../src/errors.js';

const PASSAGES = {
  password:
    'To reset your password, open the sign-in page and choose "Forgot password". We email you a link that ' +
    'lets you set a new password; the link expires after one hour.',
  refunds:
    'Refunds are issued to the original payment method within 14 days of a cancellation. Annual plans ' +
    'cancelled in the first month are refunded in full.',
  shipping:
    'Orders ship from our warehouse in Rotterdam. Standard delivery takes three to five business days; ' +
    'express shipping arrives the next day for orders placed before noon.',
  rateLimits:
    'The public API allows 600 requests per minute per API key. Clients that exceed the rate limit receive ' +
    'HTTP 429 with a Retry-After header.',
  retention:
    'Conversation transcripts are retained for 90 days and then deleted permanently. Administrators can ' +
    'export or erase data sooner to satisfy GDPR requests.',
  sso:
    'Single sign-on is available on the Enterprise plan. Configure SAML by uploading your identity provider ' +
    'metadata and mapping the email attribute.',
  webhooks:
    'Webhooks are retried with exponential backoff for up to 24 hours when your endpoint does not answer ' +
    'with a 2xx status code. Each delivery is signed with an HMAC header.',
  mobileOffline:
    'The mobile app keeps your recent notes on the device, so you can read and edit them offline; changes ' +
    'sync automatically when the connection returns.',
  invoices:
    'Invoices are generated on the first day of each billing cycle. You can change the billing address and ' +
    'VAT number printed on invoices from the Billing settings.',
  garden:
    'Tomatoes need at least six hours of direct sunlight and deep, infrequent watering. Prune the side ' +
    'shoots to direct energy into the fruit.',
};

const QUESTIONS: [string, keyof typeof PASSAGES][] = [
  ['I forgot my password, how do I change it?', 'password'],
  ['Can I get my money back if I cancel my subscription?', 'refunds'],
  ['How long does delivery of an order take?', 'shipping'],
  ['What happens when I send too many API requests?', 'rateLimits'],
  ['How long do you keep chat transcripts?', 'retention'],
  ['How do I set up SAML single sign-on?', 'sso'],
  ['Will a failed webhook delivery be retried?', 'webhooks'],
  ['Can I use the app on my phone without internet?', 'mobileOffline'],
  ['Where do I update the address on my invoices?', 'invoices'],
  ['How much sun do tomato plants need?', 'garden'],
];

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('offline embedder', () => {
  const embedder = createOfflineEmbedder(384); // the EMBEDDING_DIMENSIONS default

  it('identifies itself and returns unit vectors of the requested size', () => {
    expect(embedder.modelId).toBe('offline-hash-v1');
    expect(embedder.dimensions).toBe(384);
    const [v] = embedder.embed(['Refunds are issued within 14 days.']);
    expect(v).toHaveLength(384);
    expect(Math.hypot(...v!)).toBeCloseTo(1, 10);
  });

  it('is deterministic across calls and embedder instances', () => {
    const text = 'Webhooks are retried with exponential backoff.';
    const again = createOfflineEmbedder(384); // the EMBEDDING_DIMENSIONS default
    expect(embedder.embed([text])).toEqual(again.embed([text]));
    expect(embedder.embed([text, text])[1]).toEqual(embedder.embed([text])[0]);
  });

  it('ignores case, accents and Unicode compatibility forms', () => {
    const [a, b] = embedder.embed(['Café RÉSUMÉ ﬁle', 'cafe resume file']);
    expect(cosine(a!, b!)).toBeCloseTo(1, 10);
  });

  it('gives text without words a fixed unit vector instead of a zero vector', () => {
    const [empty, punctuation, real] = embedder.embed(['', '!!! ---', 'shipping times']);
    expect(Math.hypot(...empty!)).toBeCloseTo(1, 10);
    expect(punctuation).toEqual(empty);
    expect(Math.abs(cosine(empty!, real!))).toBeLessThan(0.3);
  });

  it('ranks the passage that answers a paraphrased question first', () => {
    const keys = Object.keys(PASSAGES) as (keyof typeof PASSAGES)[];
    const passageVectors = embedder.embed(keys.map((k) => PASSAGES[k]));
    const questionVectors = embedder.embed(QUESTIONS.map(([q]) => q));
    const misses: string[] = [];
    QUESTIONS.forEach(([question, expected], i) => {
      const ranked = keys
        .map((key, j) => ({ key, score: cosine(questionVectors[i]!, passageVectors[j]!) }))
        .sort((a, b) => b.score - a.score);
      if (ranked[0]!.key !== expected) misses.push(`${question} → ${ranked[0]!.key} (expected ${expected})`);
    });
    console.log(`offline embedder: ${QUESTIONS.length - misses.length}/${QUESTIONS.length} ranked first`, misses);
    // Hashing into 384 buckets adds collision noise of about 1/sqrt(384) to every score, so a question that
    // shares a single word with its passage can lose to chance: "most", not all.
    expect(misses.length).toBeLessThanOrEqual(3);
  });

  it('embeds 1,000 chunks of ~400 tokens quickly', () => {
    const passages = Object.values(PASSAGES);
    // Each chunk a different rotation of the corpus cut to ~400 tokens, with its own number.
    const chunks = Array.from({ length: 1000 }, (_, i) => {
      const rotation = [...passages.slice(i % 10), ...passages.slice(0, i % 10)];
      return `Chunk ${i}. ${[...rotation, ...rotation].join(' ')}`.slice(0, 2050);
    });
    expect(countTokens(chunks[0]!)).toBeGreaterThan(380);
    expect(countTokens(chunks[0]!)).toBeLessThanOrEqual(420);
    const start = performance.now();
    const vectors = embedder.embed(chunks);
    const ms = performance.now() - start;
    console.log(`offline embedder: 1000 chunks of ~400 tokens in ${ms.toFixed(0)} ms`);
    expect(vectors).toHaveLength(1000);
  });

  it('rejects impossible dimensions', () => {
    expect(() => createOfflineEmbedder(0)).toThrow(AppError);
    expect(() => createOfflineEmbedder(1.5)).toThrow(/dimensions/);
  });
});
