// Extracted pages → retrieval chunks. Structure first: a chunk never spans two pages (so it cites exactly one
// page) and never spans two sections (so its heading trail is exact). Within a section, paragraphs are packed
// whole; a paragraph too long for one chunk is split at sentence ends, then lines, then words, and only as a
// last resort inside a word. Token counts are cl100k_base, the tokenizer the agent already uses for budgets.
// Pure and deterministic: the same pages always give the same chunks.
import { countTokens, decode, encode } from '../agents/tokenizer.js';
import { badRequest } from '../errors.js';
import type { ExtractedHeading, ExtractedPage } from './extract/types.js';

// 400 tokens fits the input window of small local embedding models (many truncate at 512) with room for a
// heading prefix, and keeps a passage short enough to quote as a citation. The 60-token overlap (~15%)
// repeats the last sentence or two of a chunk at the start of the next, so a statement that straddles a
// boundary can still be found whole.
export const DEFAULT_MAX_TOKENS = 400;
export const DEFAULT_OVERLAP_TOKENS = 60;

export interface ChunkOptions {
  maxTokens?: number;
  overlapTokens?: number;
}

export interface ChunkMetadata {
  /** Trail of headings the chunk sits under, outermost first (e.g. ["Guide", "Installation"]). */
  headings?: string[];
}

export interface Chunk {
  content: string;
  chunkIndex: number;
  pageNumber: number | null;
  tokenCount: number;
  metadata: ChunkMetadata;
}

type ChunkablePage = Pick<ExtractedPage, 'pageNumber' | 'text' | 'headings'>;

export function chunkDocument(pages: ChunkablePage[], opts: ChunkOptions = {}): Chunk[] {
  const chunks: Chunk[] = [];
  for (const pageChunks of chunkPages(pages, opts)) chunks.push(...pageChunks);
  return chunks;
}

/**
 * chunkDocument for a server: the same chunks, made a page at a time, letting the event loop run whenever
 * `sliceMs` of chunking has passed (a long manual is seconds of CPU, which would otherwise stall every
 * request and chat stream of the process running the ingestion worker).
 */
export async function chunkDocumentYielding(pages: ChunkablePage[], opts: ChunkOptions & { sliceMs?: number } = {}): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  let sliceStart = performance.now();
  for (const pageChunks of chunkPages(pages, opts)) {
    chunks.push(...pageChunks);
    if (performance.now() - sliceStart >= (opts.sliceMs ?? 10)) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return chunks;
}

/** The chunks of each page in turn (a section's heading trail carries over from page to page). */
function* chunkPages(pages: ChunkablePage[], opts: ChunkOptions): Generator<Chunk[]> {
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  const overlapTokens = opts.overlapTokens ?? DEFAULT_OVERLAP_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 16) {
    throw badRequest('invalid_chunk_options', 'maxTokens must be an integer of at least 16.');
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens * 2 > maxTokens) {
    throw badRequest('invalid_chunk_options', 'overlapTokens must be an integer between 0 and half of maxTokens.');
  }

  let index = 0;
  const trail: ExtractedHeading[] = []; // open headings; a section may continue onto the next page
  for (const page of pages) {
    const pageChunks: Chunk[] = [];
    for (const section of sections(page, trail)) {
      for (const { content, tokenCount } of pack(units(section.text, '', 0, maxTokens), maxTokens, overlapTokens)) {
        pageChunks.push({
          content,
          chunkIndex: index++,
          pageNumber: page.pageNumber,
          tokenCount,
          metadata: section.headings.length ? { headings: section.headings } : {},
        });
      }
    }
    yield pageChunks;
  }
}

interface Section {
  text: string;
  headings: string[];
}

/** Splits a page at its headings. A heading with no body of its own is kept with the section after it. */
function sections(page: ChunkablePage, trail: ExtractedHeading[]): Section[] {
  const headings = [...(page.headings ?? [])].sort((a, b) => a.offset - b.offset);
  const bounds = [0, ...headings.map((h) => h.offset), page.text.length];
  const out: Section[] = [];
  let carried = '';
  for (let k = 0; k < bounds.length - 1; k++) {
    const heading = headings[k - 1];
    if (heading) {
      while (trail.length && trail[trail.length - 1]!.level >= heading.level) trail.pop();
      trail.push(heading);
    }
    const slice = page.text.slice(bounds[k], bounds[k + 1]).trim();
    if (!slice) continue;
    const text = carried ? `${carried}\n\n${slice}` : slice;
    const headingOnly = heading && slice.split('\n').slice(1).every((line) => /^\s*[=-]*\s*$/.test(line));
    if (headingOnly && k < bounds.length - 2) carried = text;
    else {
      out.push({ text, headings: trail.map((h) => h.text) });
      carried = '';
    }
  }
  return out;
}

/** A piece of text no longer than maxTokens, with the whitespace that separated it from the piece before. */
interface Unit {
  text: string;
  sep: string;
  tokens: number;
}

// A sentence ends at . ! ? or … (plus closing quotes or brackets) before whitespace, or at a CJK full stop.
// A regex rather than Intl.Segmenter: it is linear on long texts (the segmenter is not, in Node 20), and
// its boundaries cannot shift with an ICU upgrade, which would re-chunk and re-embed unchanged documents.
// Abbreviations ("e.g. this") cause an extra cut candidate, which costs nothing: pieces are rejoined.
const SENTENCE_END = /(?<=[.!?\u2026]['"\u2019\u201D)\]]*)(?=\s)|(?<=[\u3002\uFF01\uFF1F])/;

// Coarsest first. Each returns consecutive slices that concatenate back to the input.
const SPLITTERS: ((text: string) => string[])[] = [
  (text) => text.split(/(?<=\n\n)/), // paragraphs
  (text) => text.split(SENTENCE_END), // sentences, also when wrapped over several lines
  (text) => text.split(/(?<=\n)/), // lines: table rows, lists
  (text) => text.split(/(?<=\s)(?=\S)/), // words
];

const CHARS_PER_TOKEN_CEILING = 10;

function units(text: string, sep: string, level: number, maxTokens: number): Unit[] {
  // Counting tokens is the expensive part, so text that is certainly too long (English averages ~4
  // characters a token) is split without being counted; the pieces are counted, once.
  const tokens = text.length > maxTokens * CHARS_PER_TOKEN_CEILING ? Infinity : countTokens(text);
  if (tokens <= maxTokens) return [{ text, sep, tokens }];
  if (level === SPLITTERS.length) return hardSplit(text, sep, maxTokens);
  const parts = toParts(SPLITTERS[level]!(text), sep);
  if (parts.length <= 1) return units(text, sep, level + 1, maxTokens);
  return parts.flatMap((p) => units(p.text, p.sep, level + 1, maxTokens));
}

/** Trimmed slices, each remembering the original whitespace before it (the first gets `sep`). */
function toParts(slices: string[], sep: string): { text: string; sep: string }[] {
  const parts: { text: string; sep: string }[] = [];
  let whitespace = '';
  for (const slice of slices) {
    const text = slice.trim();
    if (!text) {
      whitespace += slice;
      continue;
    }
    parts.push({ text, sep: parts.length ? whitespace + slice.slice(0, slice.indexOf(text)) : sep });
    whitespace = slice.slice(slice.indexOf(text) + text.length);
  }
  return parts;
}

// A single "word" longer than a chunk (a base64 blob, an unbroken URL): cut on token boundaries. A cut can
// split a multi-byte character, whose replacement re-encodes longer, hence the recount.
function hardSplit(text: string, sep: string, maxTokens: number): Unit[] {
  const ids = encode(text);
  const out: Unit[] = [];
  for (let i = 0; i < ids.length; ) {
    let n = Math.min(maxTokens, ids.length - i);
    let piece = decode(ids.slice(i, i + n));
    while (countTokens(piece) > maxTokens) piece = decode(ids.slice(i, i + (n = Math.floor(n * 0.9))));
    out.push({ text: piece, sep: i === 0 ? sep : '', tokens: countTokens(piece) });
    i += n;
  }
  return out;
}

/**
 * Greedy packing of units into chunks of at most maxTokens, each chunk after the first starting with the
 * tail of the previous one. Sizes are estimated from unit counts (+1 per separator) and then checked
 * exactly, because BPE tokens can merge across a join.
 */
function pack(all: Unit[], maxTokens: number, overlapTokens: number): { content: string; tokenCount: number }[] {
  const chunks: { content: string; tokenCount: number }[] = [];
  let i = 0;
  let carry = '';
  while (i < all.length) {
    let estimate = carry ? countTokens(carry) : 0;
    let taken = 0;
    while (i + taken < all.length) {
      const cost = all[i + taken]!.tokens + (estimate ? 1 : 0);
      if (estimate + cost > maxTokens) break;
      estimate += cost;
      taken++;
    }
    let content = join(carry, all.slice(i, i + taken));
    let tokenCount = countTokens(content);
    while (tokenCount > maxTokens && taken > 1) {
      taken--;
      content = join(carry, all.slice(i, i + taken));
      tokenCount = countTokens(content);
    }
    if (taken === 0 || tokenCount > maxTokens) {
      // The overlap leaves no room for the next unit: start this chunk without it.
      if (!carry) throw new Error('chunker invariant: a unit exceeds maxTokens');
      carry = '';
      continue;
    }
    chunks.push({ content, tokenCount });
    i += taken;
    carry = i < all.length ? overlapTail(content, overlapTokens) : '';
  }
  return chunks;
}

function join(carry: string, parts: Unit[]): string {
  return parts.reduce((acc, u) => (acc ? acc + u.sep + u.text : u.text), carry);
}

/**
 * The end of a chunk to repeat at the start of the next: as many whole trailing sentences as fit in the
 * budget, else whole trailing lines (table rows), else trailing words. Never the whole chunk, so every
 * chunk adds new text.
 */
function overlapTail(content: string, budget: number): string {
  if (budget <= 0) return '';
  const window = content.slice(-budget * 16); // more characters than `budget` tokens can span
  for (const split of [SPLITTERS[1]!, SPLITTERS[2]!]) {
    const slices = split(window);
    let tail = '';
    for (let k = slices.length - 1; k >= 1; k--) {
      const candidate = slices[k]! + tail;
      if (countTokens(candidate) > budget) break;
      tail = candidate;
    }
    if (tail.trim()) return tail.trim();
  }
  const ids = encode(window);
  let tail = decode(ids.slice(Math.max(1, ids.length - budget)));
  // Start at a word boundary, and drop a character that the token cut split in half.
  if (/\S$/.test(window.slice(0, window.length - tail.length))) tail = tail.replace(/^\S*\s+/, '');
  return tail.replace(/^\uFFFD+/, '').trim();
}
