// PDF with pdf.js (the legacy build, the one meant for Node; in Node it runs its worker in-process). pdf.js
// returns positioned text runs, not lines: a run starts a new line when its baseline moves by more than half
// a line, gets a space when it starts visibly after the previous run, and a vertical jump of more than ~1.8
// lines (or back up, as at a new column) starts a new paragraph, so the chunker can split at paragraphs.
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { TextItem } from 'pdfjs-dist/types/src/display/api.js';
import { isAppError } from '../../errors.js';
import { corruptFile, encryptedFile } from './extract-errors.js';
import { plainPage } from './pages.js';
import type { ExtractedDocument, ExtractedPage } from './types.js';

export async function extractPdf(buffer: Buffer, fileName: string): Promise<Omit<ExtractedDocument, 'fileType'>> {
  const task = getDocument({
    data: new Uint8Array(buffer), // a copy: pdf.js transfers (detaches) the array it is given
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0, // errors only: pdf.js warns on every font quirk
  });
  try {
    const doc = await task.promise.catch((err: unknown) => {
      throw (err as Error)?.name === 'PasswordException' ? encryptedFile(fileName) : corruptFile(fileName, 'pdf', err);
    });
    const pages: ExtractedPage[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      pages.push(plainPage(layoutText(content.items.filter((i): i is TextItem => 'str' in i)), n));
      page.cleanup();
    }
    const info = (await doc.getMetadata().catch(() => null))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' && info.Title.trim() ? info.Title.trim() : undefined;
    return { pages, totalPages: doc.numPages, ...(title ? { title } : {}) };
  } catch (err) {
    if (isAppError(err)) throw err;
    throw corruptFile(fileName, 'pdf', err);
  } finally {
    await task.destroy();
  }
}

function layoutText(items: TextItem[]): string {
  let out = '';
  let prev: { y: number; end: number; size: number } | null = null;
  for (const item of items) {
    const [, , c, d, x, y] = item.transform as number[];
    const size = Math.hypot(c!, d!) || item.height || 10;
    if (!item.str) {
      if (item.hasEOL && prev) prev.end = -Infinity; // explicit line end: next run starts a line
      continue;
    }
    if (prev) {
      const dy = prev.y - y!;
      const lineHeight = Math.max(prev.size, size);
      if (Math.abs(dy) > lineHeight / 2 || prev.end === -Infinity) {
        out += dy > lineHeight * 1.8 || dy < -lineHeight ? '\n\n' : '\n';
      } else if (x! - prev.end > size * 0.15 && !/\s$/.test(out) && !/^\s/.test(item.str)) {
        out += ' ';
      }
    }
    out += item.str;
    prev = { y: y!, end: item.hasEOL ? -Infinity : x! + item.width, size };
  }
  return out;
}
