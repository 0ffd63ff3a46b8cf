// DocumentContent → .docx with Word's built-in styles (Title, Heading 1-3, lists), so the file stays
// editable and picks up the reader's theme instead of hard-coded formatting.
import {
  AlignmentType,
  Document,
  HeadingLevel,
  LevelFormat,
  Packer,
  PageBreak,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import { cellText, tableRows, type Block, type DocumentContent, type TableBlock } from './content.js';

// A4 (the library's default page) minus its 1-inch margins, in twentieths of a point.
const TEXT_WIDTH_TWIPS = 11906 - 2 * 1440;
const HEADINGS = [HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3] as const;
const NUMBERED = 'numbered';

export async function renderDocx(content: DocumentContent): Promise<Buffer> {
  const children: (Paragraph | Table)[] = [new Paragraph({ text: content.title, heading: HeadingLevel.TITLE })];
  if (content.subtitle) {
    const run = new TextRun({ text: content.subtitle, italics: true, color: '555555' });
    children.push(new Paragraph({ children: [run] }));
  }
  let list = 0; // each numbered list is its own instance so it starts again at 1
  for (const block of content.blocks) children.push(...renderBlock(block, () => ++list));

  const doc = new Document({
    title: content.title,
    creator: 'FlowSpark',
    numbering: {
      config: [
        {
          reference: NUMBERED,
          levels: [
            {
              level: 0,
              format: LevelFormat.DECIMAL,
              text: '%1.',
              alignment: AlignmentType.START,
              style: { paragraph: { indent: { left: 720, hanging: 360 } } },
            },
          ],
        },
      ],
    },
    sections: [{ children }],
  });
  return Packer.toBuffer(doc);
}

function renderBlock(block: Block, nextList: () => number): (Paragraph | Table)[] {
  switch (block.type) {
    case 'heading':
      return [new Paragraph({ text: block.text, heading: HEADINGS[block.level - 1] })];
    case 'paragraph':
      return [new Paragraph({ children: lines(block.text) })];
    case 'bullets': {
      const instance = block.ordered ? nextList() : 0;
      return block.items.map((item) =>
        block.ordered
          ? new Paragraph({ children: lines(item), numbering: { reference: NUMBERED, level: 0, instance } })
          : new Paragraph({ children: lines(item), bullet: { level: 0 } }),
      );
    }
    case 'table':
      return [renderTable(block), new Paragraph({})]; // the empty paragraph keeps adjacent tables apart
    case 'page_break':
      return [new Paragraph({ children: [new PageBreak()] })];
  }
}

/** Newlines in the text become line breaks inside one paragraph. */
function lines(text: string): TextRun[] {
  return text.split('\n').map((line, i) => new TextRun({ text: line, break: i > 0 ? 1 : undefined }));
}

function renderTable(table: TableBlock): Table {
  // Even columns on the grid only: per-cell widths would add an element to every cell for no visible gain.
  const width = Math.floor(TEXT_WIDTH_TWIPS / table.columns.length);
  const headerCell = (text: string) =>
    new TableCell({
      children: [new Paragraph({ children: [new TextRun({ text, bold: true })] })],
      shading: { type: ShadingType.CLEAR, fill: 'E7ECF3', color: 'auto' },
    });
  return new Table({
    width: { size: width * table.columns.length, type: WidthType.DXA },
    columnWidths: table.columns.map(() => width),
    rows: [
      // tableHeader repeats the header row on every page the table spans.
      new TableRow({ tableHeader: true, children: table.columns.map(headerCell) }),
      ...tableRows(table).map(
        (row) => new TableRow({ children: row.map((c) => new TableCell({ children: [new Paragraph(cellText(c))] })) }),
      ),
    ],
  });
}
