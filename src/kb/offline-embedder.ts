// The embedder used when no embedding provider is configured, so knowledge-base search works offline and in
// tests. It is a feature-hashing bag of words, not a neural model: it finds passages that share words, word
// pairs or word pieces with the query ("reset my password" ~ "password resets"), never pure synonyms.
// Deterministic and stateless (no vocabulary, no IDF table), so vectors stay comparable across processes
// and releases as long as `modelId` does not change. Changing any constant below means a new modelId.
import { badRequest } from '../errors.js';

export const OFFLINE_EMBEDDING_MODEL_ID = 'offline-hash-v1';

export interface OfflineEmbedder {
  readonly modelId: typeof OFFLINE_EMBEDDING_MODEL_ID;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[]): number[][];
}

// Relative feature weights, tuned on paraphrased questions at 384 dimensions. Whole words carry the meaning;
// word pairs reward matching phrases but rarely survive paraphrase; a word's first five letters are a crude
// stemmer (cancel, cancelled, cancellation); character n-grams catch the remaining inflections and typos but
// are many per word, so each weighs little.
const UNIGRAM_WEIGHT = 1;
const STOPWORD_WEIGHT = 0.1;
const BIGRAM_WEIGHT = 0.3;
const PREFIX_WEIGHT = 0.7;
const PREFIX_LENGTH = 5;
const CHAR_NGRAM_WEIGHT = 0.2;

// Frequent English function words: kept faintly (a query of only stopwords still matches something), left
// out of pairs and n-grams, so "the refund" and "a refund" look alike.
const STOPWORDS = new Set(
  (
    'a an the and or but if nor so yet of to in on at by for with from as into onto about over under after ' +
    'before between through during up down out off than then there here this that these those it its is are ' +
    'was were be been being am do does did doing have has had having can could will would should shall may ' +
    'might must i me my mine we us our you your yours he him his she her they them their what which who whom ' +
    'whose when where why how all any both each few more most other some such no not only own same too very ' +
    'just also s t d ll m re ve get got'
  ).split(' '),
);

export function createOfflineEmbedder(dimensions: number): OfflineEmbedder {
  if (!Number.isInteger(dimensions) || dimensions < 2 || dimensions > 16_000) {
    throw badRequest('invalid_embedding_dimensions', 'Embedding dimensions must be an integer from 2 to 16000.');
  }
  // Text with no words at all would give a zero vector, whose cosine similarity is undefined (NaN in
  // pgvector). It gets this fixed unit vector instead: the same for all such texts, near-orthogonal to real
  // ones since hashed components carry random signs.
  const fallback = new Array<number>(dimensions).fill(1 / Math.sqrt(dimensions));
  const features = new FeatureCounts(); // scratch space reused across texts; embed() is synchronous
  return {
    modelId: OFFLINE_EMBEDDING_MODEL_ID,
    dimensions,
    embed: (texts) => texts.map((text) => embedOne(text, dimensions, features) ?? fallback.slice()),
  };
}

function embedOne(text: string, dimensions: number, features: FeatureCounts): number[] | null {
  features.clear();
  let previous: string | null = null;
  for (const word of words(text)) {
    if (STOPWORDS.has(word)) {
      features.add(fnv(KIND_WORD, word), STOPWORD_WEIGHT);
      continue; // a stopword does not break a pair: "reset your password" still yields "reset password"
    }
    const stemmed = stem(word);
    features.add(fnv(KIND_WORD, stemmed), UNIGRAM_WEIGHT);
    if (previous) features.add(fnv(fnv(KIND_PAIR, previous), ' ' + stemmed), BIGRAM_WEIGHT);
    previous = stemmed;
    if (stemmed.length > PREFIX_LENGTH) features.add(fnv(KIND_PREFIX, stemmed, 0, PREFIX_LENGTH), PREFIX_WEIGHT);
    const padded = `<${stemmed}>`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      features.add(fnv(KIND_NGRAM, padded, i, i + 3), CHAR_NGRAM_WEIGHT);
      if (i + 4 <= padded.length) features.add(fnv(KIND_NGRAM, padded, i, i + 4), CHAR_NGRAM_WEIGHT);
    }
  }

  const vector = new Array<number>(dimensions).fill(0);
  features.forEach((hash, weight, count) => {
    // Bucket from the hash, sign from an independent bit of a second hash, so collisions cancel out on
    // average instead of always adding up.
    const sign = fmix32(hash ^ 0x9e3779b9) & 1 ? 1 : -1;
    vector[hash % dimensions]! += sign * weight * (1 + Math.log(count)); // sublinear tf
  });
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  if (!norm) return null;
  for (let i = 0; i < dimensions; i++) vector[i]! /= norm;
  return vector;
}

/**
 * Occurrences of each hashed feature in one text, in an open-addressing table on typed arrays: several
 * times faster than a Map for the ~20 feature lookups per word. Features are stored by their mixed hash
 * (fmix32 is a bijection, so no two features merge), which also spreads FNV's weak low bits.
 */
class FeatureCounts {
  private hashes = new Uint32Array(4096);
  private counts = new Uint32Array(4096); // 0 marks an empty slot
  private weights = new Float64Array(4096);
  private used: number[] = [];

  add(rawHash: number, weight: number): void {
    if (this.used.length * 2 >= this.hashes.length) this.grow();
    const hash = fmix32(rawHash);
    const mask = this.hashes.length - 1;
    let slot = hash & mask;
    while (this.counts[slot] && this.hashes[slot] !== hash) slot = (slot + 1) & mask;
    if (!this.counts[slot]) {
      this.hashes[slot] = hash;
      this.weights[slot] = weight; // a feature's weight depends only on the feature, so the first one holds
      this.used.push(slot);
    }
    this.counts[slot]!++;
  }

  forEach(fn: (hash: number, weight: number, count: number) => void): void {
    for (const slot of this.used) fn(this.hashes[slot]!, this.weights[slot]!, this.counts[slot]!);
  }

  clear(): void {
    for (const slot of this.used) this.counts[slot] = 0;
    this.used = [];
  }

  private grow(): void {
    const old = { hashes: this.hashes, counts: this.counts, weights: this.weights, used: this.used };
    const size = this.hashes.length * 2;
    this.hashes = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.weights = new Float64Array(size);
    this.used = [];
    for (const slot of old.used) {
      let s = old.hashes[slot]! & (size - 1);
      while (this.counts[s]) s = (s + 1) & (size - 1);
      this.hashes[s] = old.hashes[slot]!;
      this.counts[s] = old.counts[slot]!;
      this.weights[s] = old.weights[slot]!;
      this.used.push(s);
    }
  }
}

/** Lowercased words, compatibility-normalised (ﬁ → fi, full-width → ASCII), Latin accents dropped. */
function words(text: string): string[] {
  const normalized = text
    .normalize('NFKD')
    .replace(/(\p{Script=Latin})\p{Mn}+/gu, '$1')
    .normalize('NFKC')
    .toLowerCase();
  return normalized.match(/[\p{L}\p{N}]+/gu) ?? [];
}

// Plural folding only: enough for "passwords" ~ "password"; the character n-grams handle the rest.
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

// Feature kinds seed the hash differently, so the word "the" and the trigram "the" are different features.
const KIND_WORD = 0x811c9dc5; // FNV-1a offset basis
const KIND_PAIR = 0x050c5d1f;
const KIND_NGRAM = 0x2f8a4b6d;
const KIND_PREFIX = 0x6b43a9b5;

/** 32-bit FNV-1a over UTF-16 code units of s[start, end), continuing from `seed`. */
function fnv(seed: number, s: string, start = 0, end = s.length): number {
  let h = seed;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads FNV's weak low bits over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
