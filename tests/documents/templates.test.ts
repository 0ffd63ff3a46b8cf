import { randomBytes } from 'node:crypto';
import { Document, Packer, Paragraph } from 'docx';
import ExcelJS from 'exceljs';
import { PDFDocument, PDFName } from 'pdf-lib';
import PizZip from 'pizzip';
import { describe, expect, it } from 'vitest';
import { fillTemplate, inspectTemplate, type TemplateType } from '../../src/documents/templates/index.js';
import { docxText, openPdf, pageText, pdfPages } from './readers.js';

const docxTemplate = (...paragraphs: string[]) =>
  Packer.toBuffer(new Document({ sections: [{ children: paragraphs.map((text) => new Paragraph(text)) }] }));

const letter = () =>
  docxTemplate(
    'Dear {name},',
    '{#items}',
    '{title}: {price} {currency}',
    '{/items}',
    'Total: {total} {currency}',
    '{#vip}Thank you for being a VIP.{/vip}',
  );

async function pdfForm(withFields = true) {
  const doc = await PDFDocument.create();
  const page = doc.addPage([400, 400]);
  if (withFields) {
    const form = doc.getForm();
    form.createTextField('full_name').addToPage(page, { x: 20, y: 340, width: 300, height: 24 });
    const notes = form.createTextField('notes');
    notes.enableMultiline();
    notes.addToPage(page, { x: 20, y: 240, width: 300, height: 80 });
    form.createCheckBox('agree').addToPage(page, { x: 20, y: 200, width: 16, height: 16 });
    const country = form.createDropdown('country');
    country.addOptions(['France', 'Japan']);
    country.addToPage(page, { x: 20, y: 160, width: 120, height: 24 });
    const plan = form.createRadioGroup('plan');
    plan.addOptionToPage('basic', page, { x: 20, y: 120, width: 16, height: 16 });
    plan.addOptionToPage('pro', page, { x: 60, y: 120, width: 16, height: 16 });
  }
  return Buffer.from(await doc.save());
}

async function invoiceWorkbook() {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Invoice');
  sheet.getCell('A1').value = 'Invoice {{number}}';
  sheet.getCell('B2').value = '{{amount}}';
  sheet.getCell('B3').value = '{{ paid }}';
  sheet.getCell('B4').value = '{{due}}';
  sheet.getCell('A5').value = { richText: [{ text: 'Dear ', font: { bold: true } }, { text: '{{name}}!' }] };
  sheet.getCell('B6').value = { formula: 'B2*2' };
  sheet.getCell('A7').value = { richText: [{ text: 'Ref {{num' }, { text: 'ber}}', font: { italic: true } }] };
  book.addWorksheet('Notes').getCell('A1').value = 'Prepared for {{name}}';
  return Buffer.from(await book.xlsx.writeBuffer());
}

const loadWorkbook = async (buf: Buffer) => {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(buf as unknown as ExcelJS.Buffer);
  return book;
};

const zipOf = (files: Record<string, string | Buffer>) => {
  const zip = new PizZip();
  for (const [name, data] of Object.entries(files)) zip.file(name, data);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 1 } });
};

describe('Word templates', () => {
  it('lists tags and loops with their fields', async () => {
    expect(await inspectTemplate('word', await letter())).toEqual({
      variables: [
        { name: 'name', kind: 'text' },
        { name: 'items', kind: 'loop', fields: ['title', 'price', 'currency'] },
        { name: 'total', kind: 'text' },
        { name: 'currency', kind: 'text' },
        { name: 'vip', kind: 'loop', fields: [] },
      ],
    });
  });

  it('fills tags, repeats loops and resolves names from the outer data', async () => {
    const filled = await fillTemplate('word', await letter(), {
      name: 'Ada',
      items: [
        { title: 'Tea', price: 4 },
        { title: 'Cake', price: 6.5 },
      ],
      total: 10.5,
      currency: 'EUR',
      vip: true,
    });
    const text = await docxText(filled);
    for (const expected of ['Dear Ada,', 'Tea: 4 EUR', 'Cake: 6.5 EUR', 'Total: 10.5 EUR', 'Thank you for being a VIP.']) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('{');
  });

  it('names every missing value, inside loops too', async () => {
    await expect(
      fillTemplate('word', await letter(), { name: 'Ada', items: [{ title: 'Tea' }], currency: 'EUR', vip: false }),
    ).rejects.toMatchObject({
      code: 'template_variable_missing',
      status: 422,
      message: 'The data has no value for "items.price", "total".',
      details: { missing: ['items.price', 'total'] },
    });
  });

  it('prints nothing for an explicit null', async () => {
    const filled = await fillTemplate('word', await docxTemplate('Hello {name}!'), { name: null });
    expect((await docxText(filled)).trim()).toBe('Hello !');
  });

  it('reports tag syntax errors', async () => {
    await expect(inspectTemplate('word', await docxTemplate('Hello {name'))).rejects.toMatchObject({
      code: 'invalid_template',
      message: expect.stringContaining('tag errors'),
    });
  });
});

describe('PDF form templates', () => {
  it('lists the fields with their kinds and choices', async () => {
    expect(await inspectTemplate('pdf', await pdfForm())).toEqual({
      variables: [
        { name: 'full_name', kind: 'text' },
        { name: 'notes', kind: 'text' },
        { name: 'agree', kind: 'checkbox' },
        { name: 'country', kind: 'dropdown', options: ['France', 'Japan'] },
        { name: 'plan', kind: 'radio', options: ['basic', 'pro'] },
      ],
    });
  });

  const data = { full_name: 'Łukasz Żółw 漢', notes: 'line one\nline two', agree: 'yes', country: 'Japan', plan: 'pro' };

  it('fills text fields, check boxes and choices', async () => {
    const pdf = await openPdf(await fillTemplate('pdf', await pdfForm(), data));
    // pdf.js lists each field with its widgets; the widgets carry the value.
    const fields = (await pdf.getFieldObjects()) as Record<string, { value?: unknown }[]>;
    await pdf.destroy();
    const value = (name: string) => fields[name]!.map((f) => f.value).find((v) => v !== undefined);
    expect(value('full_name')).toBe('Lukasz Zólw ?');
    expect(value('notes')).toBe('line one\nline two');
    expect(value('agree')).toBe('Yes');
    expect(value('country')).toBe('Japan');
    // pdf-lib keeps radio choices in /Opt and selects by index, so pdf.js sees "1"; pdf-lib reads the name.
    expect(value('plan')).toBe('1');
    const reloaded = await PDFDocument.load(await fillTemplate('pdf', await pdfForm(), data));
    expect(reloaded.getForm().getRadioGroup('plan').getSelected()).toBe('pro');
  });

  it('flattens on request: the values become page text and the form is gone', async () => {
    const filled = await fillTemplate('pdf', await pdfForm(), data, { flatten: true });
    const text = pageText((await pdfPages(filled))[0]!);
    expect(text).toContain('Lukasz Zólw ?');
    expect(text).toContain('line two');
    const pdf = await openPdf(filled);
    expect(await pdf.getFieldObjects()).toBeNull();
    await pdf.destroy();
  });

  it('rejects missing values and unknown choices', async () => {
    const form = await pdfForm();
    await expect(fillTemplate('pdf', form, { full_name: 'Ada', agree: false })).rejects.toMatchObject({
      code: 'template_variable_missing',
      details: { missing: ['notes', 'country', 'plan'] },
    });
    await expect(fillTemplate('pdf', form, { ...data, country: 'Peru' })).rejects.toMatchObject({
      code: 'template_value_invalid',
      message: '"Peru" is not a choice of "country"; choose one of: France, Japan.',
    });
  });

  it('rejects PDFs that are not fillable forms', async () => {
    await expect(inspectTemplate('pdf', await pdfForm(false))).rejects.toMatchObject({
      code: 'invalid_template',
      message: expect.stringContaining('no fillable form fields'),
    });
    const encrypted = await PDFDocument.create();
    encrypted.addPage();
    encrypted.context.trailerInfo.Encrypt = encrypted.context.obj({ Filter: PDFName.of('Standard'), V: 2 });
    await expect(inspectTemplate('pdf', Buffer.from(await encrypted.save()))).rejects.toMatchObject({
      code: 'invalid_template',
      message: expect.stringContaining('encrypted'),
    });
    const form = await pdfForm();
    const truncated = form.subarray(0, form.length / 3);
    await expect(inspectTemplate('pdf', truncated)).rejects.toMatchObject({ code: 'invalid_template' });
  });
});

describe('Excel templates', () => {
  it('lists placeholders from every sheet, once each', async () => {
    const { variables } = await inspectTemplate('excel', await invoiceWorkbook());
    expect(variables).toEqual(['number', 'amount', 'paid', 'due', 'name'].map((name) => ({ name, kind: 'text' })));
  });

  it('fills typed values into whole-placeholder cells and splices the rest', async () => {
    const filled = await fillTemplate('excel', await invoiceWorkbook(), {
      number: 'INV-7',
      amount: 1250.5,
      paid: true,
      due: '2024-07-31',
      name: 'Ada',
    });
    const book = await loadWorkbook(filled);
    const sheet = book.getWorksheet('Invoice')!;
    expect(sheet.getCell('A1').value).toBe('Invoice INV-7');
    expect(sheet.getCell('B2').value).toBe(1250.5);
    expect(sheet.getCell('B2').type).toBe(ExcelJS.ValueType.Number);
    expect(sheet.getCell('B3').value).toBe(true);
    expect(sheet.getCell('B4').value).toEqual(new Date('2024-07-31T00:00:00Z'));
    expect(sheet.getCell('B4').numFmt).toBe('yyyy-mm-dd');
    expect(sheet.getCell('A5').value).toEqual({ richText: [{ text: 'Dear ', font: { bold: true } }, { text: 'Ada!' }] });
    expect(sheet.getCell('B6').formula).toBe('B2*2');
    expect(sheet.getCell('A7').value).toBe('Ref INV-7'); // a placeholder split across runs
    expect(book.getWorksheet('Notes')!.getCell('A1').value).toBe('Prepared for Ada');
  });

  it('keeps data that looks like a formula as text', async () => {
    const book = await loadWorkbook(
      await fillTemplate('excel', await invoiceWorkbook(), { number: 1, amount: '=1+1', paid: 0, due: null, name: 'x' }),
    );
    expect(book.getWorksheet('Invoice')!.getCell('B2').value).toBe('=1+1');
    expect(book.getWorksheet('Invoice')!.getCell('B4').value).toBeNull();
  });

  it('rejects missing values and objects', async () => {
    const workbook = await invoiceWorkbook();
    await expect(fillTemplate('excel', workbook, { number: 1, amount: 2 })).rejects.toMatchObject({
      code: 'template_variable_missing',
      message: 'The data has no value for "paid", "due", "name".',
    });
    await expect(
      fillTemplate('excel', workbook, { number: { a: 1 }, amount: 2, paid: 1, due: 1, name: 'x' }),
    ).rejects.toMatchObject({ code: 'template_value_invalid' });
  });
});

describe('files that are not templates', () => {
  const types: TemplateType[] = ['word', 'pdf', 'excel'];

  it('rejects an empty file', async () => {
    for (const type of types) {
      await expect(inspectTemplate(type, Buffer.alloc(0))).rejects.toMatchObject({ code: 'empty_file', status: 400 });
    }
  });

  it('rejects random bytes', async () => {
    for (const type of types) {
      const noise = randomBytes(4096);
      await expect(inspectTemplate(type, noise)).rejects.toMatchObject({ code: 'invalid_template', status: 422 });
    }
  });

  it('rejects a zip that is not the declared kind', async () => {
    const notOffice = zipOf({ 'hello.txt': 'hello' });
    await expect(inspectTemplate('word', notOffice)).rejects.toMatchObject({
      code: 'invalid_template',
      message: 'This file is a zip archive but not a Word document (.docx).',
    });
    await expect(inspectTemplate('excel', await letter())).rejects.toMatchObject({
      code: 'invalid_template',
      message: 'This file is a zip archive but not an Excel workbook (.xlsx).',
    });
  });

  it('rejects zip bombs before opening them', async () => {
    const big = zipOf({ 'word/document.xml': Buffer.alloc(60 * 1024 * 1024) });
    expect(big.length).toBeLessThan(1024 * 1024);
    await expect(inspectTemplate('word', big)).rejects.toMatchObject({ code: 'file_too_large_uncompressed', status: 422 });

    const many = zipOf(Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`xl/f${i}.xml`, 'x'])));
    await expect(inspectTemplate('excel', many)).rejects.toMatchObject({
      code: 'file_too_large_uncompressed',
      message: expect.stringContaining('2001 files'),
    });
  });

  it('rejects a zip whose entries expand past their declared size', async () => {
    const lying = zipOf({ 'word/document.xml': Buffer.alloc(5 * 1024 * 1024) });
    lying.writeUInt32LE(1000, 22); // local header: uncompressed size
    lying.writeUInt32LE(1000, lying.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 24); // central directory
    await expect(inspectTemplate('word', lying)).rejects.toMatchObject({ code: 'file_too_large_uncompressed' });
  });
});
