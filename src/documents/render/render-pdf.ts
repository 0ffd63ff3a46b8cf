// DocumentContent → PDF with pdf-lib, which only draws glyphs at coordinates: line wrapping, page breaks,
// tables that continue on the next page under a repeated header row, and page numbers are done here.
// Standard fonts keep files small and need no font files; text is folded to WinAnsi (see win-ansi.ts).
import { PDFDocument, StandardFonts, rgb, type Color, type PDFFont, type PDFPage } from 'pdf-lib';
import { cellText, tableRows, type Block, type Cell, type DocumentContent, type TableBlock } from './content.js';
import { toWinAnsi } from './win-ansi.js';

const [PAGE_W, PAGE_H] = [595.28, 841.89]; // A4 in points
const MARGIN = 56;
const TEXT_W = PAGE_W - 2 * MARGIN;
const TOP = PAGE_H - MARGIN;
const BODY = { size: 10.5, leading: 14.5 };
const HEADINGS = [
  { size: 16, before: 14 },
  { size: 13.5, before: 10 },
  { size: 11.5, before: 8 },
];
const TABLE = { size: 9, leading: 11.5, pad: 4, headerLines: 6 };
const GRAY = rgb(0.35, 0.35, 0.35);
const RULE = rgb(0.7, 0.72, 0.75);
const HEADER_FILL = rgb(0.906, 0.925, 0.953);

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  italic: PDFFont;
}

export async function renderPdf(content: DocumentContent): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(content.title, { showInWindowTitleBar: true });
  if (content.subtitle) doc.setSubject(content.subtitle);
  doc.setCreator('FlowSpark');
  doc.setProducer('FlowSpark');
  const fonts: Fonts = {
    regular: doc.embedStandardFont(StandardFonts.Helvetica),
    bold: doc.embedStandardFont(StandardFonts.HelveticaBold),
    italic: doc.embedStandardFont(StandardFonts.HelveticaOblique),
  };

  const out = new PageWriter(doc, fonts);
  out.lines(wrap(safe(content.title, fonts), fonts.bold, 22, TEXT_W), fonts.bold, 22, 27);
  if (content.subtitle) {
    out.lines(wrap(safe(content.subtitle, fonts), fonts.italic, 12, TEXT_W), fonts.italic, 12, 16, { color: GRAY });
  }
  out.y -= 10;
  for (const block of content.blocks) drawBlock(out, block);

  const pages = doc.getPages();
  pages.forEach((page, i) => {
    const label = `Page ${i + 1} of ${pages.length}`;
    const width = fonts.regular.widthOfTextAtSize(label, 8);
    page.drawText(label, { x: (PAGE_W - width) / 2, y: MARGIN / 2, size: 8, font: fonts.regular, color: GRAY });
  });
  const bytes = await doc.save();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The current page and the top of the next line on it; adds pages as content runs past the bottom margin. */
class PageWriter {
  page!: PDFPage;
  y = TOP;

  constructor(
    private readonly doc: PDFDocument,
    readonly fonts: Fonts,
  ) {
    this.newPage();
  }

  newPage() {
    this.page = this.doc.addPage([PAGE_W, PAGE_H]);
    this.y = TOP;
  }

  get atTop() {
    return this.y === TOP;
  }

  /** Starts a new page unless `height` still fits (or the page is empty: nothing would be gained). */
  ensure(height: number) {
    if (this.y - height < MARGIN && !this.atTop) this.newPage();
  }

  lines(lines: string[], font: PDFFont, size: number, leading: number, opts: { x?: number; color?: Color } = {}) {
    for (const line of lines) {
      this.ensure(leading);
      this.page.drawText(line, { x: opts.x ?? MARGIN, y: this.y - size, size, font, color: opts.color });
      this.y -= leading;
    }
  }
}

function drawBlock(out: PageWriter, block: Block) {
  const { regular, bold } = out.fonts;
  switch (block.type) {
    case 'heading': {
      const { size, before } = HEADINGS[block.level - 1]!;
      const lines = wrap(safe(block.text, out.fonts), bold, size, TEXT_W);
      if (!out.atTop) out.y -= before;
      // Keep the heading with the first lines that follow it.
      out.ensure(lines.length * size * 1.3 + 2 * BODY.leading);
      out.lines(lines, bold, size, size * 1.3);
      out.y -= 4;
      return;
    }
    case 'paragraph':
      out.lines(wrap(safe(block.text, out.fonts), regular, BODY.size, TEXT_W), regular, BODY.size, BODY.leading);
      out.y -= 6;
      return;
    case 'bullets': {
      const indent = block.ordered ? 22 : 14;
      block.items.forEach((item, i) => {
        const lines = wrap(safe(item, out.fonts), regular, BODY.size, TEXT_W - indent);
        out.ensure(BODY.leading);
        const marker = block.ordered ? `${i + 1}.` : '\u2022';
        out.page.drawText(marker, { x: MARGIN + 2, y: out.y - BODY.size, size: BODY.size, font: regular });
        out.lines(lines, regular, BODY.size, BODY.leading, { x: MARGIN + indent });
        out.y -= 2;
      });
      out.y -= 4;
      return;
    }
    case 'table':
      drawTable(out, block);
      out.y -= 10;
      return;
    case 'page_break':
      if (!out.atTop) out.newPage();
      return;
  }
}

interface Row {
  cells: string[][]; // wrapped lines per cell
  rightAligned: boolean[];
}

function drawTable(out: PageWriter, table: TableBlock) {
  const { regular, bold } = out.fonts;
  const { size, leading, pad } = TABLE;
  const rows = tableRows(table);
  const headerText = table.columns.map((c) => safe(c, out.fonts));
  const bodyText = rows.map((row) => row.map((c) => safe(cellText(c), out.fonts)));
  const widths = columnWidths(headerText, bodyText, out.fonts);
  const header: Row = {
    cells: headerText.map((t, i) => wrap(t, bold, size, widths[i]! - 2 * pad).slice(0, TABLE.headerLines)),
    rightAligned: headerText.map(() => false),
  };
  const headerHeight = rowLines(header) * leading + 2 * pad;
  const linesPerPage = Math.floor((TOP - MARGIN - headerHeight - 2 * pad) / leading);

  const drawSlice = (row: Row, from: number, count: number, font: PDFFont, fill: boolean) => {
    const height = count * leading + 2 * pad;
    let x = MARGIN;
    row.cells.forEach((lines, i) => {
      const width = widths[i]!;
      const color = fill ? HEADER_FILL : undefined;
      out.page.drawRectangle({ x, y: out.y - height, width, height, borderColor: RULE, borderWidth: 0.5, color });
      lines.slice(from, from + count).forEach((line, k) => {
        const textX = row.rightAligned[i] ? x + width - pad - font.widthOfTextAtSize(line, size) : x + pad;
        out.page.drawText(line, { x: textX, y: out.y - pad - size - k * leading + 1, size, font });
      });
      x += width;
    });
    out.y -= height;
  };
  const continueOnNewPage = () => {
    out.newPage();
    drawSlice(header, 0, rowLines(header), bold, true);
  };

  // The header never ends a page alone: it needs room for at least one line of the first row.
  out.ensure(headerHeight + leading + 2 * pad);
  drawSlice(header, 0, rowLines(header), bold, true);
  rows.forEach((cells, r) => {
    const row: Row = {
      cells: bodyText[r]!.map((t, i) => wrap(t, regular, size, widths[i]! - 2 * pad)),
      rightAligned: cells.map((c: Cell) => typeof c === 'number'),
    };
    const total = rowLines(row);
    let from = 0;
    while (from < total) {
      const room = Math.floor((out.y - MARGIN - 2 * pad) / leading);
      const left = total - from;
      // A row that fits on a page moves to the next one whole; only a row taller than a page is split.
      if (room < left && (room < 1 || (from === 0 && left <= linesPerPage))) {
        continueOnNewPage();
        continue;
      }
      const count = Math.min(room, left);
      drawSlice(row, from, count, regular, false);
      from += count;
      if (from < total) continueOnNewPage();
    }
  });
}

const rowLines = (row: Row) => Math.max(1, ...row.cells.map((c) => c.length));

/**
 * Columns narrower than an even share keep their natural width; the wide ones split what is left evenly.
 * Natural widths come from the first rows only: measuring ten thousand rows buys nothing over a hundred.
 */
function columnWidths(header: string[], body: string[][], fonts: Fonts): number[] {
  const { size, pad } = TABLE;
  const natural = header.map((h, i) => {
    let width = fonts.bold.widthOfTextAtSize(h, size);
    for (const row of body.slice(0, 100)) width = Math.max(width, fonts.regular.widthOfTextAtSize(row[i]!, size));
    return Math.min(width, TEXT_W) + 2 * pad + 1;
  });
  const sum = natural.reduce((a, b) => a + b, 0);
  if (sum <= TEXT_W) return natural.map((w) => (w * TEXT_W) / sum);
  const widths = [...natural];
  let open = natural.map((_, i) => i);
  let room = TEXT_W;
  for (;;) {
    const share = room / open.length;
    const narrow = open.filter((i) => natural[i]! <= share);
    if (narrow.length === 0) {
      for (const i of open) widths[i] = share;
      return widths;
    }
    for (const i of narrow) room -= natural[i]!;
    open = open.filter((i) => natural[i]! > share);
  }
}

const safe = (text: string, fonts: Fonts) => toWinAnsi(text, fonts.regular);

/** Greedy word wrap; a word wider than the line is cut wherever it must be. Newlines are kept. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  const space = font.widthOfTextAtSize(' ', size);
  for (const paragraph of text.split('\n')) {
    let line = '';
    let lineWidth = 0;
    for (let word of paragraph.split(' ')) {
      let wordWidth = font.widthOfTextAtSize(word, size);
      while (wordWidth > width) {
        if (line) lines.push(line);
        const cut = fitPrefix(word, font, size, width);
        lines.push(word.slice(0, cut));
        word = word.slice(cut);
        wordWidth = font.widthOfTextAtSize(word, size);
        line = '';
        lineWidth = 0;
      }
      if (line && lineWidth + space + wordWidth > width) {
        lines.push(line);
        line = word;
        lineWidth = wordWidth;
      } else {
        lineWidth += (line ? space : 0) + wordWidth;
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** How many leading characters of `word` fit in `width` (at least one, so wrapping always advances). */
function fitPrefix(word: string, font: PDFFont, size: number, width: number): number {
  let n = 1;
  while (n < word.length && font.widthOfTextAtSize(word.slice(0, n + 1), size) <= width) n++;
  return n;
}
