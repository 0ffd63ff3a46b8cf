// Independent readers for generated files: what a user's viewer would see, not what our writers think
// they wrote.
import mammoth from 'mammoth';
import { getDocument, VerbosityLevel } from 'pdfjs-dist/legacy/build/pdf.mjs';

export async function docxText(buf: Buffer): Promise<string> {
  return (await mammoth.extractRawText({ buffer: buf })).value;
}

export async function docxHtml(buf: Buffer): Promise<string> {
  return (await mammoth.convertToHtml({ buffer: buf })).value;
}

export interface PdfLine {
  text: string;
  x: number;
  right: number;
}

export async function openPdf(buf: Buffer) {
  return getDocument({ data: new Uint8Array(buf), verbosity: VerbosityLevel.ERRORS, isEvalSupported: false }).promise;
}

/** Text items per page, in drawing order. */
export async function pdfPages(buf: Buffer): Promise<PdfLine[][]> {
  const pdf = await openPdf(buf);
  const pages: PdfLine[][] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    pages.push(
      content.items
        .filter((item) => 'str' in item && item.str.trim() !== '')
        .map((item) => {
          const { str, transform, width } = item as { str: string; transform: number[]; width: number };
          return { text: str, x: transform[4]!, right: transform[4]! + width };
        }),
    );
  }
  await pdf.destroy();
  return pages;
}

export const pageText = (page: PdfLine[]) => page.map((l) => l.text).join('\n');
