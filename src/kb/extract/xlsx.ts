// XLSX with exceljs: one page per sheet, headed "Sheet: <name>" (a heading, so every chunk knows its sheet),
// one row per line as `a | b | c`. Values are rendered as a person reads them: formula results, not formulas;
// dates as ISO dates; merged areas once.
import ExcelJS from 'exceljs';
import { corruptFile } from './extract-errors.js';
import { rowsToLines } from './table-rows.js';
import { normalizeText } from './text-decoding.js';
import type { ExtractedDocument, ExtractedPage } from './types.js';

export async function extractXlsx(buffer: Buffer, fileName: string): Promise<Omit<ExtractedDocument, 'fileType'>> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(buffer as unknown as ExcelJS.Buffer);
  } catch (err) {
    throw corruptFile(fileName, 'xlsx', err);
  }
  const pages: ExtractedPage[] = [];
  for (const sheet of workbook.worksheets) {
    const rows: string[][] = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      const cells: string[] = [];
      for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c)));
      rows.push(cells);
    });
    const lines = rowsToLines(rows);
    if (lines.length) pages.push(sheetPage(sheet.name, lines));
  }
  return { pages, totalPages: null };
}

function sheetPage(name: string, lines: string[]): ExtractedPage {
  const label = `Sheet: ${name}`;
  return { pageNumber: null, text: normalizeText(`${label}\n\n${lines.join('\n')}`), headings: [{ level: 1, text: label, offset: 0 }] };
}

function cellText(cell: ExcelJS.Cell): string {
  if (cell.type === ExcelJS.ValueType.Merge) return '';
  const value = cell.value;
  const date = value instanceof Date ? value : isFormula(value) && value.result instanceof Date ? value.result : null;
  if (date) return formatDate(date);
  try {
    return cell.text ?? '';
  } catch {
    return ''; // exceljs throws on some malformed cell values; one bad cell should not lose the sheet
  }
}

const isFormula = (v: unknown): v is { result?: unknown } => typeof v === 'object' && v !== null && 'formula' in v;

// Excel dates are stored without a zone; exceljs hands them over as UTC.
const formatDate = (d: Date) =>
  d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds()
    ? d.toISOString().slice(0, 19).replace('T', ' ')
    : d.toISOString().slice(0, 10);
