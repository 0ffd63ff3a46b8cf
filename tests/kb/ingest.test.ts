// Ingestion end to end: every supported format uploaded through the API and indexed by the worker path
// (pages, headings, vectors, counters kept); files refused at upload change nothing; files that fail only
// at extraction leave a failed row with a stable code and nothing else; transient failures are retried
// and then fail; and deleting a document takes its chunks, its storage and its file with it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config, setConfig } from '../../src/config.js';
import { OFFLINE_EMBEDDING_MODEL_ID } from '../../src/kb/offline-embedder.js';
import * as fx from '../fixtures/kb/make-fixtures.js';
import { call, signupTeam, testConfig, useTestApp, type Team } from '../support/harness.js';
import { chunksOf, drain, footprint, ingest, rows, settle, storageUsedGb, storedFiles, upload } from './support.js';

useTestApp();

let team: Team;
beforeAll(async () => {
  team = await signupTeam();
});

describe('ingestion of each format', () => {
  it('PDF: one chunk set per page, page numbers kept, counters and model recorded', async () => {
    const doc = await ingest(team.token, team.tenantId, await fx.multiPagePdf(), 'almanac.pdf', { tags: ['Farming', 'village'], category: 'Reference' });
    expect(doc).toMatchObject({ status: 'indexed', file_type: 'pdf', total_pages: 3, embedding_model: OFFLINE_EMBEDDING_MODEL_ID, error_message: null });
    // No title given: the PDF's own title is used.
    expect(doc.title).toBe('Village Almanac');
    expect(doc.tags).toEqual(['farming', 'village']);
    expect(doc.category).toBe('Reference');
    expect(doc.processing_time_seconds).toBeGreaterThan(0);
    expect(doc.extracted_text).toContain('Harvest starts in September every year.');
    const chunks = await chunksOf(doc.id);
    expect(doc.total_chunks).toBe(chunks.length);
    expect(chunks.map((c) => c.page_number)).toEqual([1, 2, 3]);
    fx.PDF_PAGES.forEach((lines, i) => expect(chunks[i]!.content).toContain(lines[1]));
    for (const c of chunks) {
      expect(c).toMatchObject({ tenant_id: team.tenantId, has_embedding: true, embedding_model: OFFLINE_EMBEDDING_MODEL_ID, vector_db_id: c.id });
      expect(c.metadata.tokenCount).toBeGreaterThan(0);
    }
  });

  it('DOCX: headings become each chunk’s trail', async () => {
    const doc = await ingest(team.token, team.tenantId, await fx.docxWithHeadings(), 'guide.docx', { title: 'Product guide' });
    expect(doc).toMatchObject({ status: 'indexed', file_type: 'docx', title: 'Product guide', total_pages: null });
    const chunks = await chunksOf(doc.id);
    const install = chunks.find((c) => c.content.includes(fx.DOCX_INSTALL))!;
    expect(install.metadata.headings).toContain('Installation');
    expect(install.page_number).toBeNull();
    expect(chunks.some((c) => c.content.includes(fx.DOCX_REQUIREMENTS))).toBe(true);
  });

  it('XLSX, CSV, Markdown, HTML and plain text', async () => {
    const cases: [Buffer | string, string, string, string][] = [
      [await fx.xlsxWorkbook(), 'sales.xlsx', 'xlsx', 'North'],
      [fx.CSV_SEMICOLON, 'people.csv', 'csv', 'Arlington'],
      [fx.MARKDOWN_DOC, 'handbook.md', 'markdown', '25 days of paid leave'],
      [fx.HTML_PAGE, 'help.html', 'html', 'Monday to Friday'],
      [fx.TEXT_WITH_BOM, 'notes.txt', 'text', 'Café opening notes.'],
    ];
    for (const [data, name, type, phrase] of cases) {
      const doc = await ingest(team.token, team.tenantId, Buffer.from(data), name);
      expect(doc, name).toMatchObject({ status: 'indexed', file_type: type });
      const chunks = await chunksOf(doc.id);
      expect(chunks.length, name).toBeGreaterThan(0);
      expect(chunks.map((c) => c.content).join('\n'), name).toContain(phrase);
    }
    const html = (await rows(`SELECT extracted_text FROM kb_document WHERE tenant_id = :t AND file_name = 'help.html'`, { t: team.tenantId }))[0]!;
    expect(html.extracted_text).not.toContain('TRACKING_SCRIPT');
  });

  it('tags may come as repeated tags[] fields; the API shows the document as it is processed', async () => {
    const res = await upload(team.token, Buffer.from(fx.MARKDOWN_DOC), 'repeat.md', { tags: ['HR', 'hr', 'Policies'], repeatedTags: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'uploading', tags: ['hr', 'policies'], fileType: 'markdown', totalChunks: 0, error: null });
    await settle(team.tenantId, res.body.id);
    const got = await call('GET', `/api/kb/documents/${res.body.id}`, { token: team.token });
    expect(got.body).toMatchObject({ status: 'indexed', title: 'Handbook', embeddingModel: OFFLINE_EMBEDDING_MODEL_ID });
    expect(got.body.totalChunks).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  it('files refused at upload: a stable code, and nothing stored, reserved or audited', async () => {
    const t = await signupTeam();
    const before = await footprint(t.tenantId);
    const cases: [Buffer, string, number, string][] = [
      [Buffer.alloc(0), 'empty.txt', 422, 'empty_file'],
      [fx.pngHeader(), 'photo.pdf', 415, 'unsupported_file_type'],
      [fx.exeHeader(), 'setup.exe', 415, 'unsupported_file_type'],
      [fx.legacyDoc(), 'old.doc', 415, 'unsupported_file_type'],
      [fx.zipBombBySize(), 'bomb.docx', 413, 'file_too_large_uncompressed'],
      [fx.zipBombByCount(), 'many.xlsx', 413, 'file_too_large_uncompressed'],
      [fx.plainZip(), 'fake.docx', 422, 'corrupt_file'],
      [fx.encryptedOoxml(), 'secret.docx', 422, 'encrypted_file'],
      [Buffer.from('just words'), 'notes.bin', 415, 'unsupported_file_type'],
    ];
    for (const [buffer, name, status, code] of cases) {
      const res = await upload(t.token, buffer, name);
      expect([res.status, res.body.error?.code], name).toEqual([status, code]);
    }
    expect(await footprint(t.tenantId)).toEqual(before);
  });

  it('a file over MAX_UPLOAD_BYTES is refused with 413 file_too_large', async () => {
    const t = await signupTeam();
    const previous = config();
    setConfig(testConfig({ MAX_UPLOAD_BYTES: '2048' }));
    try {
      const before = await footprint(t.tenantId);
      const res = await upload(t.token, Buffer.from('x'.repeat(4096)), 'big.txt');
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('file_too_large');
      expect(await footprint(t.tenantId)).toEqual(before);
    } finally {
      setConfig(previous);
    }
  });

  it('the storage quota is reserved with the row; an upload over it is refused with 402 and stores nothing', async () => {
    const t = await signupTeam();
    const [plan] = await rows<{ max: number }>(
      `SELECT p.max_storage_gb AS max FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id WHERE s.tenant_id = :t`,
      { t: t.tenantId },
    );
    const body = Buffer.from(fx.MARKDOWN_DOC);
    const ok = await upload(t.token, body, 'fits.md');
    expect(ok.status).toBe(201);
    expect(await storageUsedGb(t.tenantId)).toBeCloseTo(body.length / 1024 ** 3, 12);

    // Nearly full: leave less room than the next file needs.
    await rows(`UPDATE billing_subscription SET storage_used_gb = :gb WHERE tenant_id = :t`, { t: t.tenantId, gb: plan!.max - 100 / 1024 ** 3 });
    const before = await footprint(t.tenantId);
    const res = await upload(t.token, Buffer.from('y'.repeat(200)), 'over.txt');
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('storage_quota_exceeded');
    expect(await footprint(t.tenantId)).toEqual(before);
  });

  it('files that fail only at extraction: the row says failed with the code; no chunks, nothing else touched', async () => {
    const t = await signupTeam();
    const cases: [Buffer, string, string][] = [
      [fx.encryptedPdf(), 'locked.pdf', 'encrypted_file'],
      [fx.corruptPdf(), 'broken.pdf', 'corrupt_file'],
      [await fx.blankPdf(), 'scan.pdf', 'no_text'],
    ];
    for (const [buffer, name, code] of cases) {
      const res = await upload(t.token, buffer, name);
      expect(res.status, name).toBe(201);
      const doc = await settle(t.tenantId, res.body.id);
      expect(doc.status, name).toBe('failed');
      expect(doc.error_message, name).toMatch(new RegExp(`^${code}: `));
      expect(doc.attempts, name).toBe(1); // a bad file is not retried
      expect(await chunksOf(res.body.id)).toEqual([]);
      const view = await call('GET', `/api/kb/documents/${res.body.id}`, { token: t.token });
      expect(view.body.error.code, name).toBe(code);
      expect(view.body.error.message.length).toBeGreaterThan(10);
    }
    // The files stay (the user may delete them), and so does their storage.
    expect(storedFiles(t.tenantId)).toHaveLength(3);
  });
});

describe('transient failures', () => {
  let server: Server;
  let url: string;
  let calls = 0;
  beforeAll(async () => {
    // The embedding provider (the process boundary) refuses every request.
    server = createServer((req, res) => {
      calls++;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model overloaded', type: 'server_error' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('are retried with back-off, then fail with embedding_failed; reprocessing later indexes the document', async () => {
    const t = await signupTeam();
    const res = await upload(t.token, Buffer.from(fx.MARKDOWN_DOC), 'retry.md');
    const previous = config();
    setConfig(testConfig({ OPENAI_BASE_URL: url, OPENAI_API_KEY: 'sk-test', EMBEDDING_MODEL: 'text-embedding-3-small' }));
    try {
      const first = await drain(t.tenantId, { maxAttempts: 2, retryDelaySeconds: () => 3600 });
      expect(first.map((r) => r.outcome.status)).toEqual(['retrying']);
      let [doc] = await rows(`SELECT * FROM kb_document WHERE id = :id`, { id: res.body.id });
      expect(doc).toMatchObject({ status: 'processing', attempts: 1, lease_token: null, error_message: null });
      expect(doc!.metadata.lastError).toMatch(/^embedding_failed: /);
      expect(new Date(doc!.lease_expires_at).getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
      // Waiting for its back-off: not claimable.
      expect(await drain(t.tenantId)).toEqual([]);

      await rows(`UPDATE kb_document SET lease_expires_at = NOW() - interval '1 second' WHERE id = :id`, { id: res.body.id });
      const second = await drain(t.tenantId, { maxAttempts: 2 });
      expect(second.map((r) => r.outcome.status)).toEqual(['failed']);
      [doc] = await rows(`SELECT * FROM kb_document WHERE id = :id`, { id: res.body.id });
      expect(doc).toMatchObject({ status: 'failed', attempts: 2 });
      expect(doc!.error_message).toMatch(/^embedding_failed: /);
      expect(await chunksOf(res.body.id)).toEqual([]);
      expect(calls).toBeGreaterThanOrEqual(2);
    } finally {
      setConfig(previous);
    }

    const again = await call('POST', `/api/kb/documents/${res.body.id}/reprocess`, { token: t.token });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'uploading', error: null });
    const busy = await call('POST', `/api/kb/documents/${res.body.id}/reprocess`, { token: t.token });
    expect([busy.status, busy.body.error.code]).toEqual([409, 'kb_document_busy']);
    const doc = await settle(t.tenantId, res.body.id);
    expect(doc).toMatchObject({ status: 'indexed', attempts: 1, embedding_model: OFFLINE_EMBEDDING_MODEL_ID });
  });
});

describe('delete', () => {
  it('removes the row, its chunks (by cascade), its storage reservation and its file; audited', async () => {
    const t = await signupTeam();
    const before = await storageUsedGb(t.tenantId);
    const doc = await ingest(t.token, t.tenantId, await fx.multiPagePdf(), 'almanac.pdf');
    expect((await chunksOf(doc.id)).length).toBe(3);
    expect(storedFiles(t.tenantId)).toHaveLength(1);
    expect(await storageUsedGb(t.tenantId)).toBeGreaterThan(before);

    const res = await call('DELETE', `/api/kb/documents/${doc.id}`, { token: t.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: doc.id, deleted: true });
    expect(await chunksOf(doc.id)).toEqual([]);
    expect(storedFiles(t.tenantId)).toEqual([]);
    expect(await storageUsedGb(t.tenantId)).toBeCloseTo(before, 12);
    expect((await call('GET', `/api/kb/documents/${doc.id}`, { token: t.token })).status).toBe(404);
    const audit = await rows(`SELECT action FROM audit_log WHERE tenant_id = :t AND resource_id = :id ORDER BY created_at`, { t: t.tenantId, id: doc.id });
    expect(audit.map((a) => a.action)).toEqual(['kb.document.uploaded', 'kb.document.indexed', 'kb.document.deleted']);
  });
});
