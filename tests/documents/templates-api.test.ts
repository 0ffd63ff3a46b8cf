// Templates through the HTTP API: multipart upload of each type with its variables found, list/get/delete
// with their visibility rules, filling each type into a document read back independently, usage_count,
// and every kind of bad upload refused with a stable code and nothing stored.
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { config, setConfig } from '../../src/config.js';
import { listTemplatesTool } from '../../src/tools/documents.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { docxText, pageText, pdfPages } from './readers.js';
import {
  addPerson,
  download,
  footprint,
  generate,
  invoiceWorkbook,
  letterTemplate,
  MIME,
  pdfFieldValues,
  pdfForm,
  sql,
  testDataDir,
  toolContext,
  upload,
  xlsxCells,
  zipOf,
} from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR });
afterAll(() => {
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

describe('uploading templates', () => {
  it('stores a Word, a PDF-form and an Excel template with the variables found in each', async () => {
    const team = await signupTeam();
    const word = await upload(team.token, 'Letter.docx', await letterTemplate(), { description: 'Customer letter' });
    expect(word.status).toBe(201);
    expect(word.body).toMatchObject({
      name: 'Letter',
      description: 'Customer letter',
      type: 'word',
      isPublic: false,
      usageCount: 0,
      variables: [
        { name: 'name', kind: 'text' },
        { name: 'items', kind: 'loop', fields: ['title', 'price'] },
        { name: 'total', kind: 'text' },
      ],
    });
    const pdf = await upload(team.token, 'form.pdf', await pdfForm(), { name: 'Registration', isPublic: 'true' });
    expect(pdf.body).toMatchObject({ name: 'Registration', type: 'pdf', isPublic: true });
    expect(pdf.body.variables.map((v: any) => `${v.name}:${v.kind}`)).toEqual(['full_name:text', 'city:text', 'agree:checkbox']);
    // No extension: the type comes from the MIME type.
    const excel = await upload(team.token, 'invoice', await invoiceWorkbook(), { name: 'Invoice' }, MIME.xlsx);
    expect(excel.body).toMatchObject({ type: 'excel' });
    expect(excel.body.variables.map((v: any) => v.name).sort()).toEqual(['amount', 'customer', 'number']);

    const f = await footprint(team.tenantId);
    expect(f.templates).toBe(3);
    expect(f.files).toEqual([`templates/${excel.body.id}.xlsx`, `templates/${pdf.body.id}.pdf`, `templates/${word.body.id}.docx`].sort());
    expect(f.storageBytes).toBeGreaterThan(1000);
    const [stored] = await sql(`SELECT variables FROM documents_template WHERE id = :id`, { id: word.body.id });
    expect(stored!.variables).toHaveLength(3);
    const audit = await sql(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = :t AND action = 'document_template.uploaded'`, { t: team.tenantId });
    expect(audit[0]!.n).toBe(3);
  });

  it('refuses bad files with a stable code and stores nothing', async () => {
    const team = await signupTeam();
    const before = await footprint(team.tenantId);
    const cases: [string, Buffer, number, string, Record<string, string>?][] = [
      ['empty.docx', Buffer.alloc(0), 400, 'empty_file'],
      ['notes.txt', Buffer.from('hello {name}'), 415, 'unsupported_file_type'],
      ['old.doc', Buffer.from('\xd0\xcf\x11\xe0 legacy word', 'latin1'), 415, 'unsupported_file_type'],
      ['mystery', randomBytes(2000), 415, 'unsupported_file_type'],
      ['fake.docx', randomBytes(4000), 422, 'invalid_template'],
      ['pdf-in-disguise.docx', await pdfForm(), 422, 'invalid_template'],
      ['sheet-as-word.docx', await invoiceWorkbook(), 422, 'invalid_template'],
      ['broken.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(3000)]), 422, 'invalid_template'],
      ['bomb.docx', zipOf({ '[Content_Types].xml': '<Types/>', 'word/document.xml': Buffer.alloc(60 * 1024 * 1024) }), 422, 'file_too_large_uncompressed'],
      ['bomb.xlsx', zipOf(Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`xl/f${i}.xml`, 'x']))), 422, 'file_too_large_uncompressed'],
      ['letter.docx', await letterTemplate(), 400, 'template_type_mismatch', { type: 'excel' }],
    ];
    for (const [name, data, status, code, fields] of cases) {
      const res = await upload(team.token, name, data, fields);
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({ name, status, code });
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    // A PDF with no form fields is not a template.
    const { PDFDocument } = await import('pdf-lib');
    const plain = await PDFDocument.create();
    plain.addPage();
    const noFields = await upload(team.token, 'plain.pdf', Buffer.from(await plain.save()));
    expect(noFields.body.error).toMatchObject({ code: 'invalid_template', message: expect.stringMatching(/no fillable form fields/) });
    // No file at all.
    const missing = await call('POST', '/api/documents/templates', { token: team.token, body: (() => { const f = new FormData(); f.set('name', 'x'); return f; })() });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_error');

    expect(await footprint(team.tenantId)).toEqual(before);
  });

  it('refuses files over MAX_UPLOAD_BYTES', async () => {
    const team = await signupTeam();
    const saved = config();
    setConfig(testConfig({ DATA_DIR, MAX_UPLOAD_BYTES: '4096' }));
    try {
      const big = await letterTemplate(); // ~7 KB
      expect(big.length).toBeGreaterThan(4096);
      const res = await upload(team.token, 'big.docx', big);
      expect(res.status).toBe(413);
      expect(res.body.error).toMatchObject({ code: 'file_too_large', message: 'The file is larger than the 4 KB upload limit.' });
    } finally {
      setConfig(saved);
    }
    expect((await footprint(team.tenantId)).templates).toBe(0);
  });

  it('refuses uploads from viewers and beyond the storage quota', async () => {
    const team = await signupTeam();
    const viewer = await addPerson(team, 'viewer');
    const res = await upload(viewer.token, 'letter.docx', await letterTemplate());
    expect(res.status).toBe(403);
    await sql(`UPDATE billing_subscription SET storage_used_gb = 1 WHERE tenant_id = :t RETURNING id`, { t: team.tenantId });
    const full = await upload(team.token, 'letter.docx', await letterTemplate());
    expect(full.status).toBe(402);
    expect(full.body.error.code).toBe('storage_quota_exceeded');
    const f = await footprint(team.tenantId);
    expect(f.templates).toBe(0);
    expect(f.files).toEqual([]);
  });
});

describe('template visibility, listing and deletion', () => {
  it('private templates are seen by their creator and admins; public ones by everyone in the tenant', async () => {
    const team = await signupTeam();
    const alice = await addPerson(team, 'member');
    const bob = await addPerson(team, 'member');
    const admin = await addPerson(team, 'admin');
    const mine = (await upload(alice.token, 'private.docx', await letterTemplate())).body;
    const shared = (await upload(alice.token, 'shared.pdf', await pdfForm(), { isPublic: 'true' })).body;

    const names = async (token: string) => (await call('GET', '/api/documents/templates', { token })).body.templates.map((t: any) => t.name).sort();
    expect(await names(alice.token)).toEqual(['private', 'shared']);
    expect(await names(bob.token)).toEqual(['shared']);
    expect(await names(admin.token)).toEqual(['private', 'shared']);
    expect((await call('GET', '/api/documents/templates?type=pdf', { token: alice.token })).body.total).toBe(1);

    expect((await call('GET', `/api/documents/templates/${mine.id}`, { token: bob.token })).status).toBe(404);
    expect((await call('GET', `/api/documents/templates/${shared.id}`, { token: bob.token })).body.name).toBe('shared');
    // Bob cannot fill Alice's private template either.
    expect((await generate(bob.token, { templateId: mine.id, data: {} })).body.error.code).toBe('template_not_found');

    // The tool lists the same.
    const viaTool = await listTemplatesTool.execute({}, toolContext(bob, 'member'));
    expect(viaTool.templates.map((t) => t.name)).toEqual(['shared']);

    // Only the creator or an admin deletes; the file goes with it and the storage is given back.
    const before = await footprint(team.tenantId);
    const denied = await call('DELETE', `/api/documents/templates/${shared.id}`, { token: bob.token });
    expect(denied.status).toBe(403);
    expect((await call('DELETE', `/api/documents/templates/${shared.id}`, { token: admin.token })).status).toBe(200);
    expect((await call('DELETE', `/api/documents/templates/${mine.id}`, { token: alice.token })).status).toBe(200);
    const after = await footprint(team.tenantId);
    expect(after.templates).toBe(0);
    expect(after.files).toEqual([]);
    expect(after.storageBytes).toBeLessThan(before.storageBytes);
    expect((await call('GET', `/api/documents/templates/${mine.id}`, { token: alice.token })).status).toBe(404);
  });
});

describe('filling templates', () => {
  it('Word: the letter is filled, loops repeated, usage_count kept', async () => {
    const team = await signupTeam();
    const t = (await upload(team.token, 'letter.docx', await letterTemplate())).body;
    const data = { name: 'Ada Lovelace', items: [{ title: 'Engine', price: 120 }, { title: 'Cards', price: 8 }], total: 128 };
    const res = await generate(team.token, { templateId: t.id, data, title: 'Letter to Ada' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'docx', templateId: t.id, status: 'completed' });
    const file = await download(team.token, res.body.downloadUrl);
    expect(file.headers.get('content-type')).toBe(MIME.docx);
    const text = await docxText(file.buffer);
    expect(text).toContain('Dear Ada Lovelace,');
    expect(text).toContain('Engine: 120 EUR');
    expect(text).toContain('Cards: 8 EUR');
    expect(text).toContain('Total: 128 EUR');
    expect(text).not.toContain('{');

    await generate(team.token, { templateId: t.id, data });
    expect((await call('GET', `/api/documents/templates/${t.id}`, { token: team.token })).body.usageCount).toBe(2);
    // A format that contradicts the template is refused before anything is stored.
    const before = await footprint(team.tenantId);
    expect((await generate(team.token, { templateId: t.id, data, format: 'pdf' })).body.error.code).toBe('format_mismatch');
    expect(await footprint(team.tenantId)).toEqual(before);
  });

  it('PDF form: fields filled (kept editable), or flattened into page text on request', async () => {
    const team = await signupTeam();
    const t = (await upload(team.token, 'form.pdf', await pdfForm())).body;
    const data = { full_name: 'Grace Hopper', city: 'Arlington', agree: true };
    const form = await generate(team.token, { templateId: t.id, data });
    expect(form.body.format).toBe('pdf');
    const values = await pdfFieldValues((await download(team.token, form.body.downloadUrl)).buffer);
    expect(values).toMatchObject({ full_name: 'Grace Hopper', city: 'Arlington' });
    expect(values.agree).toBe('Yes');

    const flat = await generate(team.token, { templateId: t.id, data, flatten: true });
    const buf = (await download(team.token, flat.body.downloadUrl)).buffer;
    const text = (await pdfPages(buf)).map(pageText).join('\n');
    expect(text).toContain('Grace Hopper');
    expect(text).toContain('Arlington');
    expect(await pdfFieldValues(buf)).toEqual({});
  });

  it('Excel: placeholders replaced with typed values, formulas kept', async () => {
    const team = await signupTeam();
    const t = (await upload(team.token, 'invoice.xlsx', await invoiceWorkbook())).body;
    const res = await generate(team.token, { templateId: t.id, data: { number: 'INV-7', customer: 'Initech', amount: 250 } });
    expect(res.body.format).toBe('xlsx');
    const file = await download(team.token, res.body.downloadUrl);
    expect(file.headers.get('content-type')).toBe(MIME.xlsx);
    const { values } = await xlsxCells(file.buffer);
    expect(values['Invoice!A1']).toBe('Invoice INV-7');
    expect(values['Invoice!B2']).toBe('Initech');
    expect(values['Invoice!B3']).toBe(250);
    expect(values['Invoice!B4']).toMatchObject({ formula: 'B3*2' });
  });

  it('a deleted template leaves its documents downloadable, but they cannot be regenerated', async () => {
    const team = await signupTeam();
    const t = (await upload(team.token, 'letter.docx', await letterTemplate())).body;
    const doc = (await generate(team.token, { templateId: t.id, data: { name: 'X', items: [], total: 1 } })).body;
    await call('DELETE', `/api/documents/templates/${t.id}`, { token: team.token });
    expect((await download(team.token, `/api/documents/${doc.id}/download`)).status).toBe(200);
    const again = await call('POST', `/api/documents/${doc.id}/versions`, { token: team.token, json: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('template_unavailable');
    expect((await call('GET', `/api/documents/${doc.id}`, { token: team.token })).body.status).toBe('completed');
  });
});
