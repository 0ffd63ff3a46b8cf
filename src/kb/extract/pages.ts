// Building pages from raw extracted text: normalised once here so heading offsets point into the final text.
import { findMarkdownHeadings } from './markdown-headings.js';
import { normalizeText } from './text-decoding.js';
import type { ExtractedPage } from './types.js';

export function plainPage(raw: string, pageNumber: number | null = null): ExtractedPage {
  return { pageNumber, text: normalizeText(raw) };
}

/** A page of Markdown-shaped text whose `#` headings are its structure. */
export function structuredPage(raw: string, pageNumber: number | null = null): ExtractedPage {
  const text = normalizeText(raw);
  const headings = findMarkdownHeadings(text);
  return headings.length ? { pageNumber, text, headings } : { pageNumber, text };
}

/** The document's first top-level heading, else its first heading of any level. */
export function titleFromHeadings(pages: ExtractedPage[]): string | undefined {
  const all = pages.flatMap((p) => p.headings ?? []);
  return (all.find((h) => h.level === 1) ?? all[0])?.text;
}
