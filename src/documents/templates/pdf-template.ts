// PDF templates are fillable forms (AcroForm): the variables are the form's fields, filled through
// pdf-lib's form API. Values are folded to WinAnsi because pdf-lib draws field appearances with
// Helvetica; flattening bakes the values into the page so they can no longer be edited.
import {
  PDFCheckBox,
  PDFDocument,
  PDFDropdown,
  PDFOptionList,
  PDFRadioGroup,
  PDFTextField,
  type PDFField,
  type PDFFont,
} from 'pdf-lib';
import { AppError } from '../../errors.js';
import { toWinAnsi } from '../render/win-ansi.js';
import { assertNothingMissing, invalidTemplate, invalidValue } from './template-errors.js';
import { textValue, type TemplateData, type TemplateVariable } from './template-variable.js';

type Fillable = PDFTextField | PDFCheckBox | PDFDropdown | PDFRadioGroup | PDFOptionList;

export async function inspectPdfTemplate(buf: Buffer): Promise<TemplateVariable[]> {
  const { fields } = await openForm(buf);
  return fields.map((field) => {
    const name = field.getName();
    if (field instanceof PDFTextField) return { name, kind: 'text' };
    if (field instanceof PDFCheckBox) return { name, kind: 'checkbox' };
    const kind = field instanceof PDFDropdown ? 'dropdown' : field instanceof PDFRadioGroup ? 'radio' : 'option_list';
    return { name, kind, options: field.getOptions() };
  });
}

export async function fillPdfTemplate(
  buf: Buffer,
  data: TemplateData,
  options: { flatten?: boolean } = {},
): Promise<Buffer> {
  const { doc, fields } = await openForm(buf);
  assertNothingMissing(fields.map((f) => f.getName()).filter((name) => data[name] === undefined));
  const font = doc.getForm().getDefaultFont();
  for (const field of fields) fillField(field, data[field.getName()], font);
  if (options.flatten) doc.getForm().flatten();
  const bytes = await doc.save();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function openForm(buf: Buffer): Promise<{ doc: PDFDocument; fields: Fillable[] }> {
  if (!buf.subarray(0, 1024).includes('%PDF-')) throw invalidTemplate('This file is not a PDF.');
  let doc: PDFDocument;
  let fields: Fillable[];
  try {
    // pdf-lib's own EncryptedPDFError fails instanceof (ES5 build), so encryption is checked after loading.
    doc = await PDFDocument.load(buf, { updateMetadata: false, ignoreEncryption: true });
    if (doc.isEncrypted) {
      throw invalidTemplate('This PDF is encrypted or password-protected; upload it without protection.');
    }
    // Buttons and signatures carry no data to fill.
    fields = doc.getForm().getFields().filter(isFillable);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidTemplate('This PDF is damaged and cannot be read.', error);
  }
  if (fields.length === 0) {
    throw invalidTemplate('This PDF has no fillable form fields; a PDF template must be a fillable form.');
  }
  return { doc, fields };
}

const isFillable = (field: PDFField): field is Fillable =>
  field instanceof PDFTextField ||
  field instanceof PDFCheckBox ||
  field instanceof PDFDropdown ||
  field instanceof PDFRadioGroup ||
  field instanceof PDFOptionList;

const CHECKED = /^(true|yes|y|on|x|1|checked)$/i;

function fillField(field: Fillable, value: unknown, font: PDFFont) {
  const name = field.getName();
  if (field instanceof PDFCheckBox) {
    const on = value === true || (typeof value === 'number' && value !== 0) || CHECKED.test(String(value ?? ''));
    if (on) field.check();
    else field.uncheck();
    return;
  }
  if (field instanceof PDFTextField) {
    const lines = textValue(name, value).split(/\r?\n/).map((line) => toWinAnsi(line, font));
    const text = lines.join(field.isMultiline() ? '\n' : ' ');
    const max = field.getMaxLength();
    if (max !== undefined && text.length > max) throw invalidValue(name, `"${name}" allows at most ${max} characters.`);
    field.setText(text || undefined);
    return;
  }
  const chosen = (Array.isArray(value) ? value : [value]).map((v) => textValue(name, v)).filter(Boolean);
  if (chosen.length === 0) return field.clear();
  const allowed = field.getOptions();
  const unknown = chosen.find((c) => !allowed.includes(c));
  // pdf-lib would quietly make a dropdown editable to accept any text; an unknown choice is a data error.
  if (unknown !== undefined) {
    throw invalidValue(name, `"${unknown}" is not a choice of "${name}"; choose one of: ${allowed.join(', ')}.`);
  }
  if (field instanceof PDFRadioGroup) field.select(chosen[0]!);
  else field.select(chosen);
}
