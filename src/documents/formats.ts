// Format and template-type names and MIME types, without loading the renderers: docx, pdf-lib and exceljs
// take over a second to import, so routes, tools and schemas use these constants and the libraries load
// on the first generation or upload (tests/documents/formats.test.ts keeps them equal to the libraries').
import type { DocumentFormat } from './render/index.js';
import type { TemplateType } from './templates/index.js';

export type { DocumentFormat, TemplateType };

export const documentFormats = ['docx', 'pdf', 'xlsx'] as const satisfies readonly DocumentFormat[];

export const contentTypes: Record<DocumentFormat, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export const templateTypes = ['word', 'pdf', 'excel'] as const satisfies readonly TemplateType[];

/** A template's type decides the file it produces. */
export const formatOfTemplate: Record<TemplateType, DocumentFormat> = { word: 'docx', pdf: 'pdf', excel: 'xlsx' };
