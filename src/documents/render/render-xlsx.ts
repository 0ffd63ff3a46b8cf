// DocumentContent → .xlsx with exceljs. A spreadsheet is for working with the data, so every table gets
// its own sheet starting at A1 (header row bold, frozen and filterable, typed cells) and the prose goes
// to a final "Notes" sheet. Strings starting with "=" are formulas by design: the agent writes them for
// the tenant's own workbook (e.g. totals), and Excel recalculates them on open.
import ExcelJS from 'exceljs';
import { cellText, tableRows, type Cell, type DocumentContent, type TableBlock } from './content.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7ECF3' } };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export async function renderXlsx(content: DocumentContent): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.title = content.title;
  book.subject = content.subtitle ?? '';
  book.creator = 'FlowSpark';
  book.calcProperties.fullCalcOnLoad = true;

  const names = new Set(['history']); // sheet names taken, lowercased; Excel reserves "History"
  let heading: string | undefined; // the latest heading names the next table's sheet
  const notes: { text: string; style?: 'title' | 'subtitle' | 'heading' }[] = [{ text: content.title, style: 'title' }];
  if (content.subtitle) notes.push({ text: content.subtitle, style: 'subtitle' });
  let tables = 0;

  for (const block of content.blocks) {
    switch (block.type) {
      case 'heading':
        heading = block.text;
        notes.push({ text: block.text, style: 'heading' });
        break;
      case 'paragraph':
        notes.push({ text: block.text });
        break;
      case 'bullets':
        block.items.forEach((item, i) => notes.push({ text: `${block.ordered ? `${i + 1}.` : '\u2022'} ${item}` }));
        break;
      case 'table':
        tables++;
        addTableSheet(book, block, sheetName(heading ?? `Table ${tables}`, names));
        heading = undefined;
        break;
      case 'page_break':
        break;
    }
  }

  // Only the title means there is no prose worth a sheet, unless there is nothing else at all.
  if (notes.length > (content.subtitle ? 2 : 1) || book.worksheets.length === 0) {
    const sheet = book.addWorksheet(sheetName('Notes', names));
    sheet.getColumn(1).width = 100;
    for (const note of notes) {
      const cell = sheet.addRow([note.text]).getCell(1);
      cell.alignment = { wrapText: true, vertical: 'top' };
      if (note.style === 'title') cell.font = { bold: true, size: 16 };
      if (note.style === 'subtitle') cell.font = { italic: true, color: { argb: 'FF555555' } };
      if (note.style === 'heading') cell.font = { bold: true, size: 12 };
    }
  }

  return Buffer.from(await book.xlsx.writeBuffer());
}

function addTableSheet(book: ExcelJS.Workbook, table: TableBlock, name: string) {
  const sheet = book.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  const rows = tableRows(table);
  const header = sheet.addRow(table.columns);
  header.font = { bold: true };
  header.eachCell((cell) => {
    cell.fill = HEADER_FILL;
    cell.border = { bottom: { style: 'thin', color: { argb: 'FF9AA5B1' } } };
  });
  for (const row of rows) {
    const values = row.map(toCellValue);
    const added = sheet.addRow(values);
    values.forEach((value, i) => {
      if (value instanceof Date) added.getCell(i + 1).numFmt = dateFormat(row[i] as string);
    });
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: table.columns.length } };
  // Fit columns to their longest value (first rows only, as Excel's own autofit would look), within reason.
  table.columns.forEach((title, i) => {
    let longest = title.length + 3; // room for the filter button
    for (const row of rows.slice(0, 200)) longest = Math.max(longest, displayLength(row[i] ?? null));
    sheet.getColumn(i + 1).width = Math.min(Math.max(longest + 2, 8), 60);
  });
}

/** Numbers and booleans stay typed, ISO dates become dates, "=…" becomes a formula. */
export function toCellValue(cell: Cell): ExcelJS.CellValue {
  if (typeof cell !== 'string') return cell;
  if (isFormula(cell)) return { formula: cell.slice(1) } as ExcelJS.CellFormulaValue;
  if (ISO_DATE.test(cell)) {
    const date = new Date(cell.length === 10 ? `${cell}T00:00:00Z` : cell);
    // Date() rolls 2024-02-30 over to March; a day that does not exist stays text.
    if (!Number.isNaN(date.getTime()) && (cell.length > 10 || date.toISOString().startsWith(cell))) return date;
  }
  return cell;
}

/**
 * "=…" with balanced quotes and parentheses. Excel offers to "repair" a file holding a malformed formula,
 * so an obviously broken one (often prose that happens to start with "=") stays text.
 */
function isFormula(text: string): boolean {
  if (text.length < 2 || !text.startsWith('=')) return false;
  let depth = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && --depth < 0) return false;
  }
  return depth === 0 && !quoted;
}

export const dateFormat = (iso: string) => (iso.length > 10 ? 'yyyy-mm-dd hh:mm' : 'yyyy-mm-dd');

function displayLength(cell: Cell): number {
  if (typeof cell === 'string' && isFormula(cell)) return 12; // a formula shows its result
  if (typeof cell === 'string' && ISO_DATE.test(cell)) return cell.length > 10 ? 16 : 10;
  return Math.max(...cellText(cell).split('\n').map((line) => line.length));
}

/** Excel sheet names: at most 31 characters, none of []:*?/\, unique regardless of case. */
function sheetName(wanted: string, taken: Set<string>): string {
  const clean = wanted.replace(/[[\]:*?/\\]/g, ' ').replace(/\s+/g, ' ').replace(/^[' ]+|[' ]+$/g, '');
  const base = clean.slice(0, 31).trimEnd() || 'Sheet';
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base.slice(0, 30 - String(n).length).trimEnd()} ${n}`;
  taken.add(name.toLowerCase());
  return name;
}
