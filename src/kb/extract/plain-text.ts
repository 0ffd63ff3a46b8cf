// Markdown and plain text are kept as written (decoded, BOM stripped, line endings normalised); Markdown's
// headings become structure, plain text has none.
import { plainPage, structuredPage, titleFromHeadings } from './pages.js';
import { decodeText } from './text-decoding.js';
import type { ExtractedDocument } from './types.js';

export async function extractMarkdown(buffer: Buffer): Promise<Omit<ExtractedDocument, 'fileType'>> {
  const page = structuredPage(decodeText(buffer));
  const title = titleFromHeadings([page]);
  return { pages: [page], totalPages: null, ...(title ? { title } : {}) };
}

export async function extractPlainText(buffer: Buffer): Promise<Omit<ExtractedDocument, 'fileType'>> {
  return { pages: [plainPage(decodeText(buffer))], totalPages: null };
}
