// Structured content as plain text: stored in documents_document.generated_content, so a document can be
// previewed, quoted by the agent (get_document) or served as text (MCP resources) without opening the file.
import type { DocumentContent } from './render/index.js';

const cell = (c: unknown) => (c === null || c === undefined ? '' : typeof c === 'boolean' ? (c ? 'Yes' : 'No') : String(c));

export function contentText(content: DocumentContent): string {
  const lines: string[] = [content.title];
  if (content.subtitle) lines.push(content.subtitle);
  for (const block of content.blocks) {
    switch (block.type) {
      case 'heading':
        lines.push('', block.text);
        break;
      case 'paragraph':
        lines.push('', block.text);
        break;
      case 'bullets':
        lines.push('', ...block.items.map((item, i) => `${block.ordered ? `${i + 1}.` : '-'} ${item}`));
        break;
      case 'table':
        lines.push('', block.columns.join('\t'), ...block.rows.map((row) => row.map(cell).join('\t')));
        break;
      case 'page_break':
        lines.push('', '\f');
        break;
    }
  }
  return lines.join('\n');
}
