// Text extraction for knowledge-base uploads: bytes in, pages of clean text (with page numbers and headings
// where the format has them) out. Pure: no database, no network; the ingestion worker persists the result.
import { extractCsv } from './csv.js';
import { extractDocx } from './docx.js';
import { emptyFile, noText } from './extract-errors.js';
import { detectFileType } from './file-types.js';
import { extractHtml } from './html.js';
import { extractPdf } from './pdf.js';
import { extractMarkdown, extractPlainText } from './plain-text.js';
import type { ExtractedDocument, ExtractInput, KbFileType } from './types.js';
import { extractXlsx } from './xlsx.js';

// detectFileType lets an upload route refuse a file (415, zip bomb) before storing or queueing it.
export { detectFileType, SUPPORTED_EXTENSIONS, SUPPORTED_FILE_TYPES, SUPPORTED_MIME_TYPES } from './file-types.js';
export { MAX_UNCOMPRESSED_BYTES, MAX_ZIP_ENTRIES } from './zip-guard.js';
export type { ExtractedDocument, ExtractedHeading, ExtractedPage, ExtractInput, KbFileType } from './types.js';

type Extractor = (buffer: Buffer, fileName: string) => Promise<Omit<ExtractedDocument, 'fileType'>>;

const EXTRACTORS: Record<KbFileType, Extractor> = {
  pdf: extractPdf,
  docx: extractDocx,
  xlsx: extractXlsx,
  csv: extractCsv,
  markdown: extractMarkdown,
  html: extractHtml,
  text: extractPlainText,
};

/**
 * Throws AppError: `empty_file`, `unsupported_file_type` (415), `corrupt_file`, `encrypted_file`,
 * `file_too_large_uncompressed` (413), `no_text`.
 */
export async function extractText(input: ExtractInput): Promise<ExtractedDocument> {
  const { buffer, fileName, mimeType } = input;
  if (buffer.length === 0) throw emptyFile(fileName);
  const fileType = await detectFileType(buffer, fileName, mimeType);
  const extracted = await EXTRACTORS[fileType](buffer, fileName);
  // Pages without text (a scanned page, an empty sheet) are dropped; totalPages still counts them.
  const pages = extracted.pages.filter((p) => p.text.trim());
  if (!pages.length) throw noText(fileName);
  return { fileType, ...extracted, pages };
}
