import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/agents/tokenizer.js';
import { chunkDocument, chunkDocumentYielding, type Chunk } from '../../src/kb/chunk.js';
import { extractText, type ExtractedPage } from '../../src/kb/extract/index.js';
import * as fx from '../fixtures/kb/make-fixtures.js';

/** 80 distinct sentences of ~20 tokens each: ~1,600 tokens of prose with clear sentence ends. */
const PROSE = Array.from(
  { length: 80 },
  (_, i) => `Fact ${i}: the ${['red', 'blue', 'green', 'amber'][i % 4]} valve on line ${i} opens at ${i * 3} kilopascals during startup.`,
).join(' ');

const page = (text: string, pageNumber: number | null = 1, headings?: ExtractedPage['headings']): ExtractedPage =>
  headings ? { pageNumber, text, headings } : { pageNumber, text };

/** Longest start of `next` that is also the end of `prev`. */
function overlapLength(prev: string, next: string): number {
  for (let n = Math.min(prev.length, next.length); n > 0; n--) if (prev.endsWith(next.slice(0, n))) return n;
  return 0;
}

describe('chunkDocument', () => {
  it('keeps every chunk within the token budget, with counts that match the content', () => {
    const chunks = chunkDocument([page(PROSE)], { maxTokens: 120, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      expect(c.tokenCount).toBe(countTokens(c.content));
      expect(c.tokenCount).toBeLessThanOrEqual(120);
    }
    expect(chunks.map((c) => c.chunkIndex)).toEqual(chunks.map((_, i) => i));
  });

  it('uses 400 tokens and 60 overlap by default', () => {
    const chunks = chunkDocument([page(PROSE)]);
    expect(Math.max(...chunks.map((c) => c.tokenCount))).toBeGreaterThan(300);
    expect(Math.max(...chunks.map((c) => c.tokenCount))).toBeLessThanOrEqual(400);
    const overlap = chunks[1]!.content.slice(0, overlapLength(chunks[0]!.content, chunks[1]!.content));
    expect(countTokens(overlap)).toBeGreaterThan(0);
    expect(countTokens(overlap)).toBeLessThanOrEqual(60);
  });

  it('cuts at sentence ends and repeats the last sentences of a chunk at the start of the next', () => {
    const chunks = chunkDocument([page(PROSE)], { maxTokens: 120, overlapTokens: 40 });
    for (const [i, c] of chunks.entries()) {
      expect(c.content).toMatch(/^Fact \d+:/);
      expect(c.content).toMatch(/kilopascals during startup\.$/);
      if (i === 0) continue;
      const shared = c.content.slice(0, overlapLength(chunks[i - 1]!.content, c.content));
      expect(shared).toMatch(/^Fact \d+:.*\.$/); // whole sentences
      expect(countTokens(shared)).toBeLessThanOrEqual(40);
    }
    // Nothing is lost: every sentence lands in some chunk.
    for (let i = 0; i < 80; i++) expect(chunks.some((c) => c.content.includes(`Fact ${i}:`))).toBe(true);
  });

  it('splits on rows when a block has no sentences (spreadsheets), overlapping whole rows', () => {
    const rows = Array.from({ length: 200 }, (_, i) => `item-${i} | warehouse ${i % 9} | ${i * 11} units`).join('\n');
    const chunks = chunkDocument([page(`Sheet: Stock\n\n${rows}`, null, [{ level: 1, text: 'Sheet: Stock', offset: 0 }])], {
      maxTokens: 100,
      overlapTokens: 30,
    });
    expect(chunks.length).toBeGreaterThan(5);
    expect(overlapLength(chunks[0]!.content, chunks[1]!.content)).toBeGreaterThan(0);
    for (const c of chunks) {
      expect(c.metadata.headings).toEqual(['Sheet: Stock']);
      for (const line of c.content.split('\n').filter((l) => l && !l.startsWith('Sheet:'))) {
        expect(line).toMatch(/^item-\d+ \| warehouse \d \| \d+ units$/);
      }
    }
  });

  it('falls back to whole words when a sentence is longer than the overlap', () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkDocument([page(words)], { maxTokens: 100, overlapTokens: 20 });
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!.content;
      const shared = chunks[i]!.content.slice(0, overlapLength(prev, chunks[i]!.content));
      expect(shared).toMatch(/^word\d+ .*word\d+$/);
      expect(prev.endsWith(` ${shared}`)).toBe(true); // starts on a word boundary
      expect(countTokens(shared)).toBeLessThanOrEqual(20);
    }
  });

  it('never merges pages, so each chunk cites one page', async () => {
    const doc = await extractText({ buffer: await fx.multiPagePdf(), fileName: 'almanac.pdf' });
    const chunks = chunkDocument(doc.pages);
    expect(chunks.map((c) => c.pageNumber)).toEqual([1, 2, 3]);
    chunks.forEach((c, i) => expect(c.content).toContain(fx.PDF_PAGES[i]![0]));

    const long = chunkDocument([page(PROSE, 4), page('A short closing page.', 5)], { maxTokens: 100, overlapTokens: 20 });
    expect(long.at(-1)).toMatchObject({ pageNumber: 5, content: 'A short closing page.' }); // no overlap across pages
    expect(long.filter((c) => c.pageNumber === 4).length).toBe(long.length - 1);
  });

  it('carries the heading trail into chunk metadata', async () => {
    const doc = await extractText({ buffer: await fx.docxWithHeadings(), fileName: 'guide.docx' });
    const chunks = chunkDocument(doc.pages);
    const about = (text: string) => chunks.find((c) => c.content.includes(text))!;
    expect(about(fx.DOCX_INTRO).metadata.headings).toEqual(['Product Guide']);
    expect(about(fx.DOCX_INSTALL).metadata.headings).toEqual(['Installation']);
    expect(about(fx.DOCX_REQUIREMENTS).metadata.headings).toEqual(['Installation', 'Requirements']);
    expect(about(fx.DOCX_REQUIREMENTS).content).not.toContain(fx.DOCX_INSTALL); // sections stay apart
  });

  it('continues a section onto the next page and keeps a heading with the body after it', () => {
    const text = '# Manual\n\n## Safety\n\nWear gloves.';
    const chunks = chunkDocument([
      page(text, 1, [
        { level: 1, text: 'Manual', offset: 0 },
        { level: 2, text: 'Safety', offset: 10 },
      ]),
      page('Keep the guard closed.', 2),
    ]);
    expect(chunks).toEqual<Chunk[]>([
      { content: text, chunkIndex: 0, pageNumber: 1, tokenCount: countTokens(text), metadata: { headings: ['Manual', 'Safety'] } },
      {
        content: 'Keep the guard closed.',
        chunkIndex: 1,
        pageNumber: 2,
        tokenCount: countTokens('Keep the guard closed.'),
        metadata: { headings: ['Manual', 'Safety'] },
      },
    ]);
  });

  it('cuts an unbreakable string on token boundaries', () => {
    const blob = fx.pseudoRandomBytes(3000).toString('base64');
    const chunks = chunkDocument([page(blob)], { maxTokens: 100, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.every((c) => c.tokenCount <= 100)).toBe(true);
    expect(chunks.map((c) => c.content).join('')).toBe(blob);
  });

  it('is deterministic', () => {
    const pages = [page(PROSE, 1), page(PROSE.split('. ').join('.\n\n'), 2)];
    expect(chunkDocument(pages, { maxTokens: 90, overlapTokens: 30 })).toEqual(
      chunkDocument(pages, { maxTokens: 90, overlapTokens: 30 }),
    );
  });

  it('skips empty pages and rejects unusable options', () => {
    expect(chunkDocument([page('  \n\n ')])).toEqual([]);
    expect(() => chunkDocument([page(PROSE)], { maxTokens: 100, overlapTokens: 60 })).toThrow(
      expect.objectContaining({ code: 'invalid_chunk_options' }),
    );
    expect(() => chunkDocument([page(PROSE)], { maxTokens: 4 })).toThrow(
      expect.objectContaining({ code: 'invalid_chunk_options' }),
    );
  });

  it('on a server, makes the same chunks while letting the event loop run between pages', async () => {
    const pages = [
      page('# Manual\n\n' + PROSE, 1, [{ level: 1, text: 'Manual', offset: 0 }]),
      ...Array.from({ length: 30 }, (_, i) => page(PROSE, i + 2)),
    ];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const chunks = await chunkDocumentYielding(pages, { maxTokens: 90, overlapTokens: 30, sliceMs: 0 });
      expect(chunks).toEqual(chunkDocument(pages, { maxTokens: 90, overlapTokens: 30 }));
      expect(chunks.at(-1)!.metadata).toEqual({ headings: ['Manual'] }); // the trail crossed every page
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5); // timers ran while it chunked
    await expect(chunkDocumentYielding([page(PROSE)], { maxTokens: 4 })).rejects.toMatchObject({ code: 'invalid_chunk_options' });
  });
});
