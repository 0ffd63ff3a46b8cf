// CSV/TSV with papaparse, which sniffs the delimiter (`,` `;` tab `|`): European exports use `;`.
import Papa from 'papaparse';
import { plainPage } from './pages.js';
import { rowsToLines } from './table-rows.js';
import { decodeText } from './text-decoding.js';
import type { ExtractedDocument } from './types.js';

export async function extractCsv(buffer: Buffer): Promise<Omit<ExtractedDocument, 'fileType'>> {
  const { data } = Papa.parse<string[]>(decodeText(buffer), { skipEmptyLines: 'greedy' });
  return { pages: [plainPage(rowsToLines(data).join('\n'))], totalPages: null };
}
