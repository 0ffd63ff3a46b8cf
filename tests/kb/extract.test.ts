import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import {
  extractText,
  SUPPORTED_EXTENSIONS,
  SUPPORTED_MIME_TYPES,
  type ExtractInput,
} from '../../src/kb/extract/index.js';
import * as fx from '../fixtures/kb/make-fixtures.js';

const extract = (buffer: Buffer, fileName: string, mimeType?: string) => extractText({ buffer, fileName, mimeType });

async function failure(input: ExtractInput): Promise<AppError> {
  const err = await extractText(input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('extractText', () => {
  it('reads a PDF page by page, keeping page numbers and rebuilding lines', async () => {
    const doc = await extract(await fx.multiPagePdf(), 'almanac.pdf');
    expect(doc.fileType).toBe('pdf');
    expect(doc.totalPages).toBe(3);
    expect(doc.title).toBe('Village Almanac');
    expect(doc.pages.map((p) => p.pageNumber)).toEqual([1, 2, 3]);
    fx.PDF_PAGES.forEach((lines, i) => {
      const text = doc.pages[i]!.text;
      expect(text).toContain(`${lines[0]}\n${lines[1]}`); // one draw call per line, one line each
      expect(text).toContain('Left run right run.'); // two runs on one baseline, joined by a space
      fx.PDF_PAGES.filter((_, j) => j !== i).forEach((other) => expect(text).not.toContain(other[0]));
    });
  });

  it('reads a DOCX with its headings as structure', async () => {
    const doc = await extract(await fx.docxWithHeadings(), 'guide.docx');
    expect(doc.fileType).toBe('docx');
    expect(doc.totalPages).toBeNull();
    expect(doc.title).toBe('Product Guide');
    const [page] = doc.pages;
    expect(page!.pageNumber).toBeNull();
    expect(page!.headings?.map((h) => [h.level, h.text])).toEqual([
      [1, 'Product Guide'],
      [1, 'Installation'],
      [2, 'Requirements'],
    ]);
    for (const h of page!.headings!) expect(page!.text.slice(h.offset)).toMatch(new RegExp(`^#+ ${h.text}\\n`));
    expect(page!.text).toContain(fx.DOCX_INSTALL);
    expect(page!.text).toContain('Plan | Seats\nTeam | 10');
  });

  it('reads each XLSX sheet as rows of cells, skipping empty sheets', async () => {
    const doc = await extract(await fx.xlsxWorkbook(), 'sales.xlsx');
    expect(doc.fileType).toBe('xlsx');
    expect(doc.pages.map((p) => p.headings?.[0]?.text)).toEqual(['Sheet: Sales', 'Sheet: Staff']);
    expect(doc.pages[0]!.text).toBe(
      [
        'Sheet: Sales',
        '',
        'Region | Quarter | Revenue | Closed',
        'North | Q1 | 1200 | 2024-03-31',
        'South | Q1 | 800 | 2024-03-31',
        'Total |  | 2000', // a formula shows its result
      ].join('\n'),
    );
  });

  it('reads CSV with a sniffed delimiter and quoted fields', async () => {
    const doc = await extract(Buffer.from(fx.CSV_SEMICOLON), 'people.csv');
    expect(doc.fileType).toBe('csv');
    expect(doc.pages[0]!.text).toBe(
      'name | city | note\nAda | London | likes maths; and engines\nGrace | Arlington | compilers',
    );
  });

  it('reads HTML without scripts or styles, keeping headings and the title', async () => {
    const doc = await extract(Buffer.from(fx.HTML_PAGE), 'help.html');
    expect(doc.fileType).toBe('html');
    expect(doc.title).toBe('Help & Support');
    const { text, headings } = doc.pages[0]!;
    expect(text).not.toMatch(/TRACKING_SCRIPT|INLINE_SCRIPT|color: red/);
    expect(text).toContain('Contact us by email.');
    expect(text).toContain('Day | Hours\nMon | 9-17');
    expect(headings?.map((h) => [h.level, h.text])).toEqual([
      [1, 'Support'],
      [2, 'Opening hours'],
    ]);
  });

  it('keeps Markdown as written and finds its headings outside code blocks', async () => {
    const doc = await extract(Buffer.from(fx.MARKDOWN_DOC), 'handbook.md');
    expect(doc.fileType).toBe('markdown');
    expect(doc.title).toBe('Handbook');
    expect(doc.pages[0]!.text).toBe(fx.MARKDOWN_DOC.trim());
    expect(doc.pages[0]!.headings?.map((h) => h.text)).toEqual(['Handbook', 'Leave', 'Expenses']);
  });

  it('reads plain text, dropping the BOM and Windows line endings', async () => {
    const doc = await extract(fx.TEXT_WITH_BOM, 'notes.txt');
    expect(doc).toEqual({
      fileType: 'text',
      pages: [{ pageNumber: null, text: 'Café opening notes.\nSecond line.' }],
      totalPages: null,
    });
  });

  it('trusts magic bytes over the name, and the mime type when there is no extension', async () => {
    expect((await extract(await fx.multiPagePdf(), 'renamed.txt')).fileType).toBe('pdf');
    expect((await extract(await fx.docxWithHeadings(), 'upload.bin')).fileType).toBe('docx');
    expect((await extract(await fx.xlsxWorkbook(), 'blob')).fileType).toBe('xlsx');
    expect((await extract(Buffer.from(fx.HTML_PAGE), 'page', 'text/html; charset=utf-8')).fileType).toBe('html');
  });

  it('lists what it supports', () => {
    expect(SUPPORTED_EXTENSIONS).toEqual(expect.arrayContaining(['.pdf', '.docx', '.xlsx', '.csv', '.md', '.html', '.txt']));
    expect(SUPPORTED_MIME_TYPES).toEqual(expect.arrayContaining(['application/pdf', 'text/csv', 'text/markdown', 'text/plain']));
  });

  describe('refuses', () => {
    const cases: [string, () => Buffer | Promise<Buffer>, string, string, number][] = [
      ['an empty file', () => Buffer.alloc(0), 'empty.pdf', 'empty_file', 422],
      ['a PNG', fx.pngHeader, 'photo.png', 'unsupported_file_type', 415],
      ['a PNG renamed .pdf', fx.pngHeader, 'photo.pdf', 'unsupported_file_type', 415],
      ['an executable', fx.exeHeader, 'setup.exe', 'unsupported_file_type', 415],
      ['random bytes', () => fx.pseudoRandomBytes(4096), 'data.bin', 'unsupported_file_type', 415],
      ['random bytes named .txt', () => fx.pseudoRandomBytes(4096), 'data.txt', 'unsupported_file_type', 415],
      ['a zip that is not a document', fx.plainZip, 'archive.zip', 'unsupported_file_type', 415],
      ['a legacy .doc', fx.legacyDoc, 'old.doc', 'unsupported_file_type', 415],
      ['an unknown text format', () => Buffer.from('{"a":1}'), 'data.json', 'unsupported_file_type', 415],
      ['a damaged PDF', fx.corruptPdf, 'broken.pdf', 'corrupt_file', 422],
      ['random bytes named .pdf', () => fx.pseudoRandomBytes(4096), 'fake.pdf', 'corrupt_file', 422],
      ['a zip named .docx', fx.plainZip, 'fake.docx', 'corrupt_file', 422],
      ['a truncated .xlsx', async () => (await fx.xlsxWorkbook()).subarray(0, 300), 'cut.xlsx', 'corrupt_file', 422],
      ['text named .docx', () => Buffer.from('hello'), 'fake.docx', 'corrupt_file', 422],
      ['a password-protected PDF', fx.encryptedPdf, 'secret.pdf', 'encrypted_file', 422],
      ['a password-protected .docx', fx.encryptedOoxml, 'secret.docx', 'encrypted_file', 422],
      ['a zip bomb (size)', fx.zipBombBySize, 'bomb.docx', 'file_too_large_uncompressed', 413],
      ['a zip bomb (entries)', fx.zipBombByCount, 'bomb.xlsx', 'file_too_large_uncompressed', 413],
      ['a PDF without text', fx.blankPdf, 'scan.pdf', 'no_text', 422],
      ['whitespace', () => Buffer.from(' \r\n\t\n'), 'blank.txt', 'no_text', 422],
      ['a workbook of empty sheets', emptyWorkbook, 'empty.xlsx', 'no_text', 422],
    ];
    it.each(cases)('%s', async (_, make, fileName, code, status) => {
      const err = await failure({ buffer: await make(), fileName });
      expect([err.code, err.status]).toEqual([code, status]);
      expect(err.message).toContain(fileName);
    });
  });
});

async function emptyWorkbook(): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('One');
  return Buffer.from(await wb.xlsx.writeBuffer());
}
