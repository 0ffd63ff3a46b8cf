// What an agent writes when it asks for a document: a title and a flat list of blocks, rendered alike to
// .docx, .pdf and .xlsx. The schema is also the tool input an LLM sees, so it stays small and every field
// says what it is for. Limits keep one tool call from asking for an unbounded file.
import { z } from 'zod';
import { unprocessable } from '../../errors.js';

const text = (max: number) => z.string().max(max);

const cellSchema = z
  .union([z.string().max(5_000), z.number(), z.boolean(), z.null()])
  .describe(
    'One cell. Use numbers for numeric values and booleans for yes/no; ISO dates (2024-05-31) become dates in ' +
      'spreadsheets; a string starting with "=" is a spreadsheet formula (e.g. "=SUM(B2:B9)"); null is empty.',
  );

const headingSchema = z.object({
  type: z.literal('heading'),
  text: text(300).describe('Heading text.'),
  level: z.number().int().min(1).max(3).describe('1 = section, 2 = subsection, 3 = minor heading.'),
});

const paragraphSchema = z.object({
  type: z.literal('paragraph'),
  text: text(20_000).describe('Plain text; a newline starts a new line within the paragraph.'),
});

const bulletsSchema = z.object({
  type: z.literal('bullets'),
  items: z.array(text(2_000)).min(1).max(500).describe('One entry per list item, plain text.'),
  ordered: z.boolean().optional().describe('true for a numbered list; bullets by default.'),
});

const tableSchema = z
  .object({
    type: z.literal('table'),
    columns: z.array(text(200)).min(1).max(50).describe('Column headers, left to right.'),
    rows: z
      .array(z.array(cellSchema).max(50))
      .max(10_000)
      .describe('Data rows, one cell per column in the same order as `columns`.'),
  })
  .superRefine((table, ctx) => {
    // Shorter rows are padded with empty cells; longer ones would lose data, so say which row to fix.
    table.rows.forEach((row, i) => {
      if (row.length > table.columns.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['rows', i],
          message: `Row ${i + 1} has ${row.length} cells but the table has ${table.columns.length} columns.`,
        });
      }
    });
  });

const pageBreakSchema = z.object({ type: z.literal('page_break') });

export const blockSchema = z
  .discriminatedUnion('type', [headingSchema, paragraphSchema, bulletsSchema, tableSchema, pageBreakSchema])
  .describe('One block of the document body, in reading order.');

export const documentContentSchema = z
  .object({
    title: text(300).min(1).describe('Document title: shown at the top and stored as the file title.'),
    subtitle: text(500).optional().describe('Optional line under the title (date, author, scope).'),
    blocks: z.array(blockSchema).max(2_000).describe('The body: headings, paragraphs, lists, tables, page breaks.'),
  })
  .describe('A document to generate as Word, PDF or Excel.');

export type DocumentContent = z.infer<typeof documentContentSchema>;
export type Block = z.infer<typeof blockSchema>;
export type TableBlock = Extract<Block, { type: 'table' }>;
export type Cell = TableBlock['rows'][number][number];

/** Validates content that did not come through a zod-validated edge (stored JSON, another service). */
export function parseDocumentContent(input: unknown): DocumentContent {
  const parsed = documentContentSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw unprocessable('invalid_document_content', `The document content is not valid: ${issues[0]!.message}`, {
    issues,
  });
}

/** A cell as a reader sees it in Word and PDF (spreadsheets keep the typed value). */
export function cellText(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'boolean') return cell ? 'Yes' : 'No';
  return String(cell);
}

/** Rows padded to the column count, so renderers never see a ragged table. */
export function tableRows(table: TableBlock): Cell[][] {
  const width = table.columns.length;
  return table.rows.map((row) => (row.length >= width ? row : [...row, ...Array<Cell>(width - row.length).fill(null)]));
}
