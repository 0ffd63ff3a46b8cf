// Excel templates: {{name}} placeholders in cell text. A cell that is exactly one placeholder takes the
// typed value (numbers stay numbers, so totals and formulas over them still work); elsewhere the value is
// spliced into the text. exceljs rewrites the workbook, so features it does not model (charts, pivot
// tables) do not survive a fill.
import ExcelJS from 'exceljs';
import { dateFormat, toCellValue } from '../render/render-xlsx.js';
import { assertNothingMissing, invalidTemplate } from './template-errors.js';
import { textValue, type TemplateData, type TemplateVariable } from './template-variable.js';
import { checkZip } from './zip-limits.js';

const KIND = 'Excel (.xlsx)';
const NAME = String.raw`\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}`;
const PLACEHOLDERS = new RegExp(NAME, 'g');
const ANY_PLACEHOLDER = new RegExp(NAME);
const WHOLE_CELL = new RegExp(`^${NAME}$`);

export async function inspectXlsxTemplate(buf: Buffer): Promise<TemplateVariable[]> {
  const names = new Set<string>();
  eachTextCell(await openWorkbook(buf), (text) => {
    for (const match of text.matchAll(PLACEHOLDERS)) names.add(match[1]!);
  });
  return [...names].map((name) => ({ name, kind: 'text' }));
}

export async function fillXlsxTemplate(buf: Buffer, data: TemplateData): Promise<Buffer> {
  const book = await openWorkbook(buf);
  const cells: { cell: ExcelJS.Cell; text: string }[] = [];
  const missing = new Set<string>();
  eachTextCell(book, (text, cell) => {
    cells.push({ cell, text });
    for (const [, name] of text.matchAll(PLACEHOLDERS)) if (data[name!] === undefined) missing.add(name!);
  });
  assertNothingMissing([...missing]);

  for (const { cell, text } of cells) {
    const whole = WHOLE_CELL.exec(text)?.[1];
    if (whole !== undefined) {
      setTyped(cell, whole, data[whole]);
    } else if (typeof cell.value === 'string') {
      cell.value = splice(text, data);
    } else {
      // Rich text keeps its runs (and their fonts), unless a placeholder straddles two runs: then the
      // cell cannot keep both and becomes plain text.
      const { richText } = cell.value as ExcelJS.CellRichTextValue;
      const runs = richText.map((run) => ({ ...run, text: splice(run.text, data) }));
      const straddled = ANY_PLACEHOLDER.test(runs.map((run) => run.text).join(''));
      cell.value = straddled ? splice(text, data) : { richText: runs };
    }
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

async function openWorkbook(buf: Buffer): Promise<ExcelJS.Workbook> {
  if (!checkZip(buf, KIND).has('xl/workbook.xml')) {
    throw invalidTemplate('This file is a zip archive but not an Excel workbook (.xlsx).');
  }
  const book = new ExcelJS.Workbook();
  try {
    // exceljs's typings predate Node's generic Buffer.
    await book.xlsx.load(buf as unknown as ExcelJS.Buffer);
  } catch (error) {
    throw invalidTemplate('This Excel file is damaged and cannot be read.', error);
  }
  return book;
}

/** Calls `visit` with the text of every plain-text or rich-text cell. */
function eachTextCell(book: ExcelJS.Workbook, visit: (text: string, cell: ExcelJS.Cell) => void) {
  book.eachSheet((sheet) =>
    sheet.eachRow((row) =>
      row.eachCell((cell) => {
        if (cell.type === ExcelJS.ValueType.Merge) return; // a merged range is visited through its master cell
        const value = cell.value;
        if (typeof value === 'string') visit(value, cell);
        else if (value && typeof value === 'object' && 'richText' in value) {
          visit(value.richText.map((run) => run.text).join(''), cell);
        }
      }),
    ),
  );
}

const splice = (text: string, data: TemplateData) =>
  text.replace(PLACEHOLDERS, (_, name: string) => textValue(name, data[name]));

function setTyped(cell: ExcelJS.Cell, name: string, value: unknown) {
  // Data values are never turned into formulas: they come from users and models, not the template author.
  if (typeof value === 'string' && !value.startsWith('=')) {
    const typed = toCellValue(value);
    cell.value = typed;
    if (typed instanceof Date && !cell.numFmt) cell.numFmt = dateFormat(value);
    return;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) {
    cell.value = value;
    return;
  }
  cell.value = textValue(name, value);
}
