// HTML → text with html-to-text (a real HTML parser, so scripts, styles, comments and entities are handled as
// a browser would). Headings come out as Markdown `#` lines so the chunker sees the same structure as in a
// .md file; tables come out one row per line as `a | b | c`, like spreadsheets.
import { compile, type FormatCallback } from 'html-to-text';
import type { ExtractedDocument } from './types.js';
import { decodeText } from './text-decoding.js';
import { structuredPage, titleFromHeadings } from './pages.js';

const heading: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${'#'.repeat(Number(elem.name?.slice(1)) || 1)} `);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

const pipeTable: FormatCallback = (elem, walk, builder) => {
  builder.openTable();
  const walkTable = (node: (typeof elem.children)[number]): void => {
    if (node.type !== 'tag') return;
    if (node.name === 'tr') {
      builder.openTableRow();
      for (const cell of node.children) {
        if (cell.type !== 'tag' || (cell.name !== 'td' && cell.name !== 'th')) continue;
        builder.openTableCell();
        walk(cell.children, builder);
        builder.closeTableCell({ colspan: Number(cell.attribs?.colspan) || 1, rowspan: Number(cell.attribs?.rowspan) || 1 });
      }
      builder.closeTableRow();
    } else if (['thead', 'tbody', 'tfoot'].includes(node.name ?? '')) node.children.forEach(walkTable);
  };
  elem.children.forEach(walkTable);
  builder.closeTable({
    leadingLineBreaks: 2,
    trailingLineBreaks: 2,
    tableToString: (rows) =>
      rows
        .map((cells) => cells.map((c) => c.text.replace(/\s+/g, ' ').trim()).join(' | '))
        .filter((row) => row.replace(/[|\s]/g, ''))
        .join('\n'),
  });
};

const skip = ['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'img', 'button', 'select'];

const toText = compile({
  wordwrap: false,
  formatters: { heading, pipeTable },
  selectors: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, format: 'heading' })),
    { selector: 'table', format: 'pipeTable' },
    { selector: 'a', options: { ignoreHref: true } },
    ...skip.map((selector) => ({ selector, format: 'skip' })),
  ],
});

const toTitle = compile({ wordwrap: false, baseElements: { selectors: ['title'], returnDomByDefault: false } });

/** Text of an HTML string with headings as `#` lines; shared with DOCX, which mammoth turns into HTML. */
export function htmlToText(html: string): string {
  return toText(html);
}

export async function extractHtml(buffer: Buffer): Promise<Omit<ExtractedDocument, 'fileType'>> {
  const html = decodeText(buffer);
  const page = structuredPage(htmlToText(html));
  const title = toTitle(html).replace(/\s+/g, ' ').trim() || titleFromHeadings([page]);
  return { pages: [page], totalPages: null, ...(title ? { title } : {}) };
}
