// Document templates a tenant uploads (Word with {tags}, fillable PDF forms, Excel with {{tags}}):
// inspected once at upload to list their variables, then filled with data into a new file.
import { badRequest } from '../../errors.js';
import { fillDocxTemplate, inspectDocxTemplate } from './docx-template.js';
import { fillPdfTemplate, inspectPdfTemplate } from './pdf-template.js';
import type { TemplateData, TemplateInspection } from './template-variable.js';
import { fillXlsxTemplate, inspectXlsxTemplate } from './xlsx-template.js';

export type { TemplateData, TemplateInspection, TemplateVariable, VariableKind } from './template-variable.js';
export { ZIP_LIMITS } from './zip-limits.js';

export const templateTypes = ['word', 'pdf', 'excel'] as const;
export type TemplateType = (typeof templateTypes)[number];

export interface FillOptions {
  /** PDF only: bake the values into the page so the result is no longer an editable form. */
  flatten?: boolean;
}

export async function inspectTemplate(type: TemplateType, buf: Buffer): Promise<TemplateInspection> {
  assertNotEmpty(buf);
  switch (type) {
    case 'word':
      return { variables: inspectDocxTemplate(buf) };
    case 'pdf':
      return { variables: await inspectPdfTemplate(buf) };
    case 'excel':
      return { variables: await inspectXlsxTemplate(buf) };
  }
  throw unsupported();
}

/** Throws `template_variable_missing` when `data` lacks a variable the template uses. */
export async function fillTemplate(
  type: TemplateType,
  buf: Buffer,
  data: TemplateData,
  options: FillOptions = {},
): Promise<Buffer> {
  assertNotEmpty(buf);
  switch (type) {
    case 'word':
      return fillDocxTemplate(buf, data);
    case 'pdf':
      return fillPdfTemplate(buf, data, options);
    case 'excel':
      return fillXlsxTemplate(buf, data);
  }
  throw unsupported();
}

function assertNotEmpty(buf: Buffer) {
  if (buf.length === 0) throw badRequest('empty_file', 'The file is empty.');
}

const unsupported = () =>
  badRequest('unsupported_template_type', `Templates can be ${templateTypes.join(', ')} files.`);
