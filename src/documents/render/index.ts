// Structured content → a file in the asked format. The one entry point commands use; the renderers stay
// private to this folder.
import { badRequest } from '../../errors.js';
import type { DocumentContent } from './content.js';
import { renderDocx } from './render-docx.js';
import { renderPdf } from './render-pdf.js';
import { renderXlsx } from './render-xlsx.js';

export { documentContentSchema, parseDocumentContent, type Block, type DocumentContent } from './content.js';

export const documentFormats = ['docx', 'pdf', 'xlsx'] as const;
export type DocumentFormat = (typeof documentFormats)[number];

export const contentTypes: Record<DocumentFormat, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const renderers: Record<DocumentFormat, (content: DocumentContent) => Promise<Buffer>> = {
  docx: renderDocx,
  pdf: renderPdf,
  xlsx: renderXlsx,
};

export interface RenderedDocument {
  buffer: Buffer;
  contentType: string;
  /** Without the dot: "docx", "pdf", "xlsx". */
  extension: DocumentFormat;
}

/** `content` is expected to be validated already (documentContentSchema at the edge, or parseDocumentContent). */
export async function renderDocument(format: DocumentFormat, content: DocumentContent): Promise<RenderedDocument> {
  const render = Object.hasOwn(renderers, format) ? renderers[format] : undefined;
  if (!render) throw badRequest('unsupported_format', `Documents can be generated as ${documentFormats.join(', ')}.`);
  return { buffer: await render(content), contentType: contentTypes[format], extension: format };
}
