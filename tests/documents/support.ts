// Helpers for the documents API tests: template fixtures built here (a Word letter, a PDF form, an Excel
// invoice), multipart uploads, reading generated files back with independent readers, and a tenant's
// documents footprint (rows, files, counters) to show a refused request changed nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Document, Packer, Paragraph } from 'docx';
import ExcelJS from 'exceljs';
import { PDFDocument } from 'pdf-lib';
import PizZip from 'pizzip';
import { QueryTypes } from 'sequelize';
import { createSession } from '../../src/auth/sessions.js';
import { createUser } from '../../src/auth/users.js';
import { config } from '../../src/config.js';
import { db } from '../../src/db/index.js';
import type { ToolContext } from '../../src/tools/registry.js';
import { app, call, uniqueEmail, type JsonResponse, type Team } from '../support/harness.js';
import { docxText, openPdf, pageText, pdfPages } from './readers.js';

export const MIME = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** A data directory of its own for this test file, so its stored files can be listed. */
export const testDataDir = () => path.join(os.tmpdir(), `fs-docs-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);

export interface Person {
  token: string;
  userId: string;
  tenantId: string;
  role: string;
}

export async function addPerson(team: Team, role: 'admin' | 'manager' | 'member' | 'viewer' = 'member', department?: string): Promise<Person> {
  const user = await createUser(team.auth, { email: uniqueEmail(role), role });
  if (department !== undefined) await db().query('UPDATE core_user SET department = :department WHERE id = :id', { replacements: { department, id: user.id } });
  const session = await createSession(user, { ip: '127.0.0.1', userAgent: 'vitest' });
  return { token: session.token, userId: user.id, tenantId: team.tenantId, role };
}

export const setDepartment = (userId: string, department: string | null) =>
  db().query('UPDATE core_user SET department = :department WHERE id = :id', { replacements: { department, id: userId } });

export function toolContext(p: { tenantId: string; userId: string }, role: ToolContext['role'] = 'owner', extra: Partial<ToolContext> = {}): ToolContext {
  return { tenantId: p.tenantId, userId: p.userId, role, channel: 'web', ...extra };
}

// ---- fixtures ---------------------------------------------------------------------------------------

export const report = {
  title: 'Quarterly review',
  subtitle: 'Q2 2024',
  blocks: [
    { type: 'heading', text: 'Summary', level: 1 },
    { type: 'paragraph', text: 'Revenue grew in every region, led by renewals.' },
    { type: 'bullets', items: ['Churn down to 1.8%', 'Two new enterprise accounts'] },
    { type: 'table', columns: ['Region', 'ARR', 'Active'], rows: [['North', 1250.5, true], ['South', 980, false]] },
  ],
} as const;

export const letterTemplate = () =>
  Packer.toBuffer(
    new Document({
      sections: [{ children: ['Dear {name},', '{#items}', '{title}: {price} EUR', '{/items}', 'Total: {total} EUR'].map((t) => new Paragraph(t)) }],
    }),
  );

export async function pdfForm(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([400, 400]);
  const form = doc.getForm();
  form.createTextField('full_name').addToPage(page, { x: 20, y: 340, width: 300, height: 24 });
  form.createTextField('city').addToPage(page, { x: 20, y: 300, width: 300, height: 24 });
  form.createCheckBox('agree').addToPage(page, { x: 20, y: 260, width: 16, height: 16 });
  return Buffer.from(await doc.save());
}

export async function invoiceWorkbook(): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Invoice');
  sheet.getCell('A1').value = 'Invoice {{number}}';
  sheet.getCell('A2').value = 'Customer';
  sheet.getCell('B2').value = '{{customer}}';
  sheet.getCell('A3').value = 'Amount';
  sheet.getCell('B3').value = '{{amount}}';
  sheet.getCell('B4').value = { formula: 'B3*2' };
  return Buffer.from(await book.xlsx.writeBuffer());
}

export function zipOf(files: Record<string, string | Buffer>): Buffer {
  const zip = new PizZip();
  for (const [name, data] of Object.entries(files)) zip.file(name, data);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

// ---- HTTP -------------------------------------------------------------------------------------------

export async function upload(token: string, fileName: string, data: Buffer, fields: Record<string, string> = {}, mimeType?: string): Promise<JsonResponse> {
  const form = new FormData();
  form.set('file', new File([new Uint8Array(data)], fileName, mimeType ? { type: mimeType } : {}));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return call('POST', '/api/documents/templates', { token, body: form });
}

/** GET a file: status, headers and the raw bytes. */
export async function download(token: string, pathOrUrl: string) {
  const url = new URL(pathOrUrl, 'http://localhost');
  const res = await app().request(url.pathname, { headers: { authorization: `Bearer ${token}` } });
  const buffer = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buffer, json: () => JSON.parse(buffer.toString('utf8')) };
}

export const generate = (token: string, json: Record<string, unknown>) => call('POST', '/api/documents', { token, json });

// ---- reading files back -----------------------------------------------------------------------------

export async function xlsxCells(buf: Buffer): Promise<{ sheets: string[]; text: string; values: Record<string, unknown>; book: ExcelJS.Workbook }> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(buf as unknown as ExcelJS.Buffer);
  const values: Record<string, unknown> = {};
  const texts: string[] = [];
  book.eachSheet((sheet) =>
    sheet.eachRow((row) =>
      row.eachCell((cell) => {
        values[`${sheet.name}!${cell.address}`] = cell.value;
        texts.push(cell.text);
      }),
    ),
  );
  return { sheets: book.worksheets.map((s) => s.name), text: texts.join('\n'), values, book };
}

/** The text a reader sees in any of the three formats. */
export async function fileText(format: 'docx' | 'pdf' | 'xlsx', buf: Buffer): Promise<string> {
  if (format === 'docx') return docxText(buf);
  if (format === 'pdf') return (await pdfPages(buf)).map(pageText).join('\n');
  return (await xlsxCells(buf)).text;
}

/** PDF form field values as pdf.js reads them. */
export async function pdfFieldValues(buf: Buffer): Promise<Record<string, unknown>> {
  const pdf = await openPdf(buf);
  const fields = (await pdf.getFieldObjects()) ?? {};
  await pdf.destroy();
  // Each field is listed with its widgets; the widgets carry the value.
  return Object.fromEntries(Object.entries(fields).map(([name, objs]) => [name, (objs as { value?: unknown }[]).map((o) => o.value).find((v) => v !== undefined)]));
}

// ---- what a tenant has stored -----------------------------------------------------------------------

export const sql = <T extends object = Record<string, any>>(query: string, replacements: Record<string, unknown> = {}): Promise<T[]> =>
  db().query<T>(query, { replacements, type: QueryTypes.SELECT });

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  await walk(dir);
  return out.sort();
}

export const tenantFiles = (tenantId: string) => listFiles(path.join(config().dataDir, 'files', tenantId));

interface Counts {
  templates: number;
  documents: number;
  failed: number;
  versions: number;
  usage: number;
  templateUses: number;
  documentsUsed: number;
  storageGb: number;
}

/** Everything documents work leaves for a tenant. */
export async function footprint(tenantId: string) {
  const [row] = await sql<Counts>(
    `SELECT (SELECT count(*) FROM documents_template WHERE tenant_id = :t)::int AS templates,
            (SELECT count(*) FROM documents_document WHERE tenant_id = :t)::int AS documents,
            (SELECT count(*) FROM documents_document WHERE tenant_id = :t AND status = 'failed')::int AS failed,
            (SELECT count(*) FROM documents_version v JOIN documents_document d ON d.id = v.document_id WHERE d.tenant_id = :t)::int AS versions,
            (SELECT count(*) FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'document_generated')::int AS usage,
            (SELECT COALESCE(sum(usage_count), 0) FROM documents_template WHERE tenant_id = :t)::int AS "templateUses",
            (SELECT documents_used_this_period FROM billing_subscription WHERE tenant_id = :t)::int AS "documentsUsed",
            (SELECT storage_used_gb FROM billing_subscription WHERE tenant_id = :t)::float AS "storageGb"`,
    { t: tenantId },
  );
  return { ...row!, storageBytes: Math.round(row!.storageGb * 1024 ** 3), files: await tenantFiles(tenantId) };
}
