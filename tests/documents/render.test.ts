import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { documentContentSchema, type DocumentContent } from '../../src/documents/render/content.js';
import { contentTypes, parseDocumentContent, renderDocument } from '../../src/documents/render/index.js';
import { docxHtml, docxText, openPdf, pageText, pdfPages } from './readers.js';

const report: DocumentContent = {
  title: 'Quarterly report',
  subtitle: 'Second quarter, 2024',
  blocks: [
    { type: 'heading', text: 'Summary', level: 1 },
    { type: 'paragraph', text: 'Revenue grew in every region.\nMargins held.' },
    { type: 'bullets', items: ['North up 12%', 'South up 4%'] },
    { type: 'bullets', items: ['Hire two engineers', 'Open the Lyon office'], ordered: true },
    { type: 'heading', text: 'Regions', level: 2 },
    {
      type: 'table',
      columns: ['Region', 'Revenue', 'On target', 'Closed on', 'Share'],
      rows: [
        ['North', 1250.5, true, '2024-06-28', '=B2/SUM(B2:B3)'],
        ['South', 980, false, '2024-06-30', '=B3/SUM(B2:B3)'],
        ['Total', '=SUM(B2:B3)', null, null, '=broken(('],
      ],
    },
    { type: 'page_break' },
    { type: 'heading', text: 'Outlook', level: 3 },
    { type: 'paragraph', text: 'Steady.' },
  ],
};

const longTable = (rows: number): DocumentContent => ({
  title: 'Inventory',
  blocks: [
    { type: 'paragraph', text: 'Every item in stock, by warehouse. '.repeat(60) },
    {
      type: 'table',
      columns: ['SKU', 'Description', 'Quantity'],
      rows: Array.from({ length: rows }, (_, i) => [`SKU-${i + 1}`, `Item number ${i + 1} in the main warehouse`, i * 7]),
    },
  ],
});

describe('documentContentSchema', () => {
  it('accepts the report and rejects what a model could get wrong', () => {
    expect(documentContentSchema.safeParse(report).success).toBe(true);
    const bad = (blocks: unknown[]) => documentContentSchema.safeParse({ title: 'x', blocks }).success;
    expect(bad([{ type: 'heading', text: 'Too deep', level: 4 }])).toBe(false);
    expect(bad([{ type: 'table', columns: ['a'], rows: [['1', '2']] }])).toBe(false);
    expect(bad([{ type: 'chart' }])).toBe(false);
    expect(bad([{ type: 'table', columns: ['a', 'b'], rows: [['only one']] }])).toBe(true); // padded
  });

  it('describes its fields for the model', () => {
    const json = JSON.stringify(z.toJSONSchema(documentContentSchema));
    expect(json).toContain('Column headers');
    expect(json).toContain('spreadsheet formula');
  });

  it('parseDocumentContent names the problem', () => {
    expect(() => parseDocumentContent({ title: 'x', blocks: [{ type: 'table', columns: ['a'], rows: [[1, 2]] }] })).toThrow(
      expect.objectContaining({ code: 'invalid_document_content', message: expect.stringContaining('Row 1 has 2 cells') }),
    );
  });
});

describe('renderDocument', () => {
  it('returns the buffer with its content type and extension', async () => {
    for (const format of ['docx', 'pdf', 'xlsx'] as const) {
      const doc = await renderDocument(format, report);
      expect(doc.contentType).toBe(contentTypes[format]);
      expect(doc.extension).toBe(format);
      expect(doc.buffer.subarray(0, 4).toString('latin1')).toBe(format === 'pdf' ? '%PDF' : 'PK\x03\x04');
    }
  });

  it('refuses an unknown format', async () => {
    await expect(renderDocument('odt' as 'pdf', report)).rejects.toMatchObject({ code: 'unsupported_format' });
  });
});

describe('docx', () => {
  it('holds every block, with Word headings, lists and a header row', async () => {
    const { buffer } = await renderDocument('docx', report);
    const text = await docxText(buffer);
    const expected = ['Quarterly report', 'Second quarter, 2024', 'Summary', 'Revenue grew in every region.'];
    expected.push('Margins held.', 'North up 12%', 'Open the Lyon office', 'Regions', 'Revenue', '1250.5');
    expected.push('Yes', 'No', '=SUM(B2:B3)', 'Outlook', 'Steady.');
    for (const part of expected) expect(text).toContain(part);
    const html = await docxHtml(buffer);
    expect(html).toContain('<h1>Summary</h1>');
    expect(html).toContain('<h2>Regions</h2>');
    expect(html).toContain('<h3>Outlook</h3>');
    expect(html).toMatch(/<ul><li>North up 12%<\/li><li>South up 4%<\/li><\/ul>/);
    expect(html).toMatch(/<ol><li>Hire two engineers<\/li><li>Open the Lyon office<\/li><\/ol>/);
    expect(html).toMatch(/<table><thead><tr><th><p><strong>Region<\/strong>/);
  });
});

describe('pdf', () => {
  it('holds every block and the title in its metadata', async () => {
    const { buffer } = await renderDocument('pdf', report);
    const pdf = await openPdf(buffer);
    const { info } = (await pdf.getMetadata()) as { info: { Title?: string } };
    expect(info.Title).toBe('Quarterly report');
    await pdf.destroy();

    const pages = await pdfPages(buffer);
    expect(pages).toHaveLength(2); // the page break
    const first = pageText(pages[0]!);
    const expected = ['Quarterly report', 'Summary', 'Revenue grew in every region.', 'Margins held.'];
    expected.push('North up 12%', '1.', 'Hire two engineers', 'Region', '1250.5', 'Yes', '2024-06-28', 'Page 1 of 2');
    for (const part of expected) expect(first).toContain(part);
    expect(pageText(pages[1]!)).toContain('Outlook');
    expect(pageText(pages[1]!)).toContain('Page 2 of 2');
  });

  it('wraps long text inside the margins and breaks pages', async () => {
    const words = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ');
    const url = 'https://example.com/' + 'a'.repeat(400);
    const content = { title: 'Long', blocks: [{ type: 'paragraph' as const, text: `${words} ${url}` }] };
    const { buffer } = await renderDocument('pdf', content);
    const pages = await pdfPages(buffer);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const lines = pages.flat();
    for (const line of lines) expect(line.right).toBeLessThanOrEqual(595.28 - 56 + 0.5);
    const all = lines.map((l) => l.text).join(' ');
    expect(all).toContain('word0 ');
    expect(all).toContain('word1499');
    expect(lines.filter((l) => /^a+$/.test(l.text)).length).toBeGreaterThan(0); // the URL was cut, not dropped
  });

  it('continues a long table on the next pages under a repeated header row', async () => {
    const pages = await pdfPages((await renderDocument('pdf', longTable(150))).buffer);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const withRows = pages.filter((page) => page.some((l) => l.text.startsWith('SKU-')));
    expect(withRows.length).toBeGreaterThanOrEqual(3);
    for (const page of withRows) {
      const texts = page.map((l) => l.text);
      expect(texts).toContain('Description');
      expect(texts).toContain('Quantity');
    }
    const skus = pages.flat().filter((l) => /^SKU-\d+$/.test(l.text)).map((l) => l.text);
    expect(skus).toEqual(Array.from({ length: 150 }, (_, i) => `SKU-${i + 1}`)); // none lost or repeated
    expect(pageText(pages.at(-1)!)).toContain(`Page ${pages.length} of ${pages.length}`);
  });

  it('splits a row taller than a page and survives a table of 50 narrow columns', async () => {
    const words = Array.from({ length: 1200 }, (_, i) => `w${i}`);
    const table = { type: 'table' as const, columns: ['Key', 'Text'], rows: [['k', words.join(' ')]] };
    const tall = await pdfPages((await renderDocument('pdf', { title: 'Tall', blocks: [table] })).buffer);
    expect(tall.length).toBeGreaterThanOrEqual(2);
    for (const page of tall) expect(page.map((l) => l.text)).toContain('Text'); // header on every page
    const drawn = tall.flat().flatMap((l) => l.text.split(' ')).filter((w) => /^w\d+$/.test(w));
    expect(drawn).toEqual(words);

    const columns = Array.from({ length: 50 }, (_, i) => `Column ${i + 1}`);
    const wide = await renderDocument('pdf', { title: 'Wide', blocks: [{ type: 'table', columns, rows: [columns] }] });
    const widePages = await pdfPages(wide.buffer);
    expect(pageText(widePages[0]!)).toContain(`Page 1 of ${widePages.length}`); // laid out, however cramped
  });

  it('draws text Helvetica cannot encode instead of failing', async () => {
    const { buffer } = await renderDocument('pdf', {
      title: 'Zażółć gęślą jaźń',
      blocks: [{ type: 'paragraph', text: 'Price ≥ 10 € → “ok” ✓ 漢字 😀\ttab' }],
    });
    const text = pageText((await pdfPages(buffer)).flat());
    expect(text).toContain('Zazólc gesla jazn');
    expect(text).toContain('Price >= 10 € -> “ok” v ?? ?');
  });
});

describe('xlsx', () => {
  const load = async (content: DocumentContent) => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await renderDocument('xlsx', content)).buffer as unknown as ExcelJS.Buffer);
    return book;
  };

  it('writes each table to its own sheet with typed cells and kept formulas', async () => {
    const book = await load(report);
    expect(book.worksheets.map((s) => s.name)).toEqual(['Regions', 'Notes']);
    const sheet = book.getWorksheet('Regions')!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'Region', 'Revenue', 'On target', 'Closed on', 'Share']);
    expect(sheet.getCell('B2').value).toBe(1250.5);
    expect(sheet.getCell('B2').type).toBe(ExcelJS.ValueType.Number);
    expect(sheet.getCell('C2').value).toBe(true);
    expect(sheet.getCell('C3').value).toBe(false);
    expect(sheet.getCell('D2').value).toEqual(new Date('2024-06-28T00:00:00Z'));
    expect(sheet.getCell('D2').numFmt).toBe('yyyy-mm-dd');
    expect(sheet.getCell('B4').type).toBe(ExcelJS.ValueType.Formula);
    expect(sheet.getCell('B4').formula).toBe('SUM(B2:B3)');
    expect(sheet.getCell('E2').formula).toBe('B2/SUM(B2:B3)');
    expect(sheet.getCell('C4').value).toBeNull();
    expect(sheet.getCell('E4').value).toBe('=broken(('); // a malformed formula stays text
  });

  it('styles the header row and fits the columns', async () => {
    const sheet = (await load(longTable(40))).worksheets[0]!;
    expect(sheet.name).toBe('Table 1');
    const header = sheet.getCell('A1');
    expect(header.font?.bold).toBe(true);
    expect(header.fill).toMatchObject({ type: 'pattern', pattern: 'solid' });
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.getColumn(2).width!).toBeGreaterThan(sheet.getColumn(1).width!);
    expect(sheet.getColumn(2).width!).toBeGreaterThanOrEqual('Item number 40 in the main warehouse'.length);
    expect(sheet.rowCount).toBe(41);
  });

  it('puts the prose on a Notes sheet, and makes one when there is no table', async () => {
    const notes = (await load(report)).getWorksheet('Notes')!;
    const texts = notes.getColumn(1).values.filter(Boolean);
    expect(texts).toEqual([
      'Quarterly report',
      'Second quarter, 2024',
      'Summary',
      'Revenue grew in every region.\nMargins held.',
      '\u2022 North up 12%',
      '\u2022 South up 4%',
      '1. Hire two engineers',
      '2. Open the Lyon office',
      'Regions',
      'Outlook',
      'Steady.',
    ]);
    const prose = await load({ title: 'Just text', blocks: [] });
    expect(prose.worksheets.map((s) => s.name)).toEqual(['Notes']);
  });

  it('keeps sheet names valid and unique', async () => {
    const table = { type: 'table' as const, columns: ['a'], rows: [[1]] };
    const book = await load({
      title: 'Names',
      blocks: [
        { type: 'heading', text: 'Sales: 2024/Q1 [draft] and a very long tail of words', level: 1 },
        table,
        { type: 'heading', text: 'Sales: 2024/Q1 [draft] and a very long tail of words', level: 1 },
        table,
      ],
    });
    const names = book.worksheets.map((s) => s.name);
    expect(names[0]).toBe('Sales 2024 Q1 draft and a very');
    expect(names[1]).toBe('Sales 2024 Q1 draft and a ver 2');
  });
});
