// Generating documents through the HTTP API and the generate_document tool: real files read back with
// independent readers (mammoth, pdf.js, exceljs), the row's lifecycle and metering, downloads and their
// names, versions, the monthly quota, and failures that leave nothing behind but the failed row.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { setConfig } from '../../src/config.js';
import { db } from '../../src/db/index.js';
import { settleInterruptedGenerations } from '../../src/documents/interrupted-generations.js';
import { on } from '../../src/events.js';
import { generateDocumentTool } from '../../src/tools/documents.js';
import { chat, textOf } from '../chat/support/chat.js';
import { call, signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { docxText } from './readers.js';
import { download, fileText, footprint, generate, letterTemplate, MIME, report, sql, testDataDir, toolContext, upload, xlsxCells } from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR, PUBLIC_URL: 'https://docs.example.test' });
afterAll(() => {
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

describe('generating from structured content', () => {
  for (const format of ['docx', 'pdf', 'xlsx'] as const) {
    it(`writes a real .${format} whose text a reader sees, and records the whole lifecycle`, async () => {
      const team = await signupTeam();
      const statuses: string[] = [];
      const off = on('document.updated', (e) => e.tenantId === team.tenantId && statuses.push(e.status));
      const before = await footprint(team.tenantId);

      const res = await generate(team.token, { format, content: report });
      off();
      expect(res.status).toBe(201);
      const doc = res.body;
      expect(doc).toMatchObject({ title: 'Quarterly review', format, status: 'completed', visibility: 'private', tokensUsed: 0, modelUsed: 'none', errorMessage: null });
      expect(doc.downloadUrl).toBe(`https://docs.example.test/api/documents/${doc.id}/download`);
      expect(doc.fileSizeBytes).toBeGreaterThan(500);
      expect(doc.generationTimeSeconds).toBeGreaterThan(0);
      expect(statuses).toEqual(['pending', 'processing', 'completed']);

      const file = await download(team.token, doc.downloadUrl);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe(MIME[format]);
      expect(file.headers.get('content-disposition')).toBe(`attachment; filename="Quarterly review.${format}"`);
      expect(file.buffer.length).toBe(doc.fileSizeBytes);
      const text = await fileText(format, file.buffer);
      for (const expected of ['Quarterly review', 'Summary', 'Revenue grew in every region, led by renewals.', 'Churn down to 1.8%', 'Two new enterprise accounts', 'Region', 'North', 'South'])
        expect(text).toContain(expected);
      if (format === 'xlsx') {
        const cells = await xlsxCells(file.buffer);
        expect(Object.values(cells.values)).toContain(1250.5); // typed cell, not text
      }

      const after = await footprint(team.tenantId);
      expect(after).toMatchObject({ documents: before.documents + 1, versions: 1, usage: 1, documentsUsed: before.documentsUsed + 1 });
      expect(after.storageBytes - before.storageBytes).toBeGreaterThanOrEqual(doc.fileSizeBytes - 1);
      expect(after.files).toEqual([`documents/${doc.id}/v1.${format}`]);
      const [usage] = await sql(`SELECT user_id, tokens_used, execution_time_seconds, metadata FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'document_generated'`, { t: team.tenantId });
      expect(usage).toMatchObject({ user_id: team.userId, tokens_used: 0, metadata: { documentId: doc.id, format, versionNumber: 1, channel: 'web' } });
      const audit = await sql(`SELECT action, resource_id FROM audit_log WHERE tenant_id = :t AND action LIKE 'document.%'`, { t: team.tenantId });
      expect(audit).toEqual([{ action: 'document.generated', resource_id: doc.id }]);
      const [row] = await sql(`SELECT generated_content, input_data FROM documents_document WHERE id = :id`, { id: doc.id });
      expect(row!.generated_content).toContain('Churn down to 1.8%');
      expect(row!.input_data).toMatchObject({ source: 'content', content: { title: 'Quarterly review' } });
    });
  }

  it('names downloads after the title, RFC 5987-encoded when it is not ASCII', async () => {
    const team = await signupTeam();
    const doc = (await generate(team.token, { format: 'pdf', title: 'Rapport “été” 2024 / Zürich', content: report })).body;
    const file = await download(team.token, `/api/documents/${doc.id}/download`);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="Rapport _ete_ 2024 Zurich.pdf"; filename*=UTF-8''Rapport%20%E2%80%9C%C3%A9t%C3%A9%E2%80%9D%202024%20Z%C3%BCrich.pdf`,
    );
  });

  it('refuses bad content with a clear error and stores nothing', async () => {
    const team = await signupTeam();
    const before = await footprint(team.tenantId);
    const ragged = await generate(team.token, { format: 'pdf', content: { title: 'T', blocks: [{ type: 'table', columns: ['a'], rows: [[1, 2]] }] } });
    expect(ragged.status).toBe(400);
    expect(ragged.body.error.code).toBe('validation_error');
    const neither = await generate(team.token, { format: 'pdf' });
    expect(neither.body.error.code).toBe('invalid_generation_input');
    const badFormat = await generate(team.token, { format: 'odt', content: report });
    expect(badFormat.body.error.code).toBe('validation_error');
    expect(await footprint(team.tenantId)).toEqual(before);
  });
});

describe('versions', () => {
  it('regenerates and edits into new versions; every version stays downloadable with its own text', async () => {
    const team = await signupTeam();
    const doc = (await generate(team.token, { format: 'docx', content: report })).body;

    const same = await call('POST', `/api/documents/${doc.id}/versions`, { token: team.token, json: {} });
    expect(same.status).toBe(201);
    const edited = await call('POST', `/api/documents/${doc.id}/versions`, {
      token: team.token,
      json: { title: 'Quarterly review (final)', content: { title: 'Quarterly review', blocks: [{ type: 'paragraph', text: 'Final numbers are in.' }] } },
    });
    expect(edited.status).toBe(201);
    expect(edited.body).toMatchObject({ title: 'Quarterly review (final)', status: 'completed' });

    const versions = (await call('GET', `/api/documents/${doc.id}/versions`, { token: team.token })).body.versions;
    expect(versions.map((v: any) => v.versionNumber)).toEqual([3, 2, 1]);
    expect(versions[0].downloadUrl).toBe(`https://docs.example.test/api/documents/${doc.id}/versions/3/download`);

    const v1 = await docxText((await download(team.token, versions[2].downloadUrl)).buffer);
    const v2 = await docxText((await download(team.token, versions[1].downloadUrl)).buffer);
    const current = await download(team.token, `/api/documents/${doc.id}/download`);
    expect(v1).toContain('Revenue grew in every region');
    expect(v2).toContain('Revenue grew in every region');
    expect(await docxText(current.buffer)).toContain('Final numbers are in.');
    expect(await docxText(current.buffer)).not.toContain('Revenue grew');
    expect(current.headers.get('content-disposition')).toContain('filename="Quarterly review (final).docx"');

    const f = await footprint(team.tenantId);
    expect(f).toMatchObject({ documents: 1, versions: 3, usage: 3, documentsUsed: 1 }); // versions do not take document units
    expect(f.files).toEqual([`documents/${doc.id}/v1.docx`, `documents/${doc.id}/v2.docx`, `documents/${doc.id}/v3.docx`]);
    expect((await download(team.token, `/api/documents/${doc.id}/versions/9/download`)).json().error.code).toBe('version_not_found');

    // Content of the wrong kind for the document is refused and leaves the versions as they were.
    const wrong = await call('POST', `/api/documents/${doc.id}/versions`, { token: team.token, json: { data: { name: 'x' } } });
    expect(wrong.body.error.code).toBe('invalid_generation_input');

    // Deleting the document removes every version's file and gives the storage back.
    const del = await call('DELETE', `/api/documents/${doc.id}`, { token: team.token });
    expect(del.status).toBe(200);
    const gone = await footprint(team.tenantId);
    expect(gone).toMatchObject({ documents: 0, versions: 0, files: [] });
    expect(gone.storageBytes).toBeLessThanOrEqual(1);
    expect((await call('GET', `/api/documents/${doc.id}`, { token: team.token })).status).toBe(404);
  });
});

describe('quota and failures', () => {
  it('refuses generation past the plan’s documents per month (402) and stores nothing', async () => {
    const team = await signupTeam();
    await db().query('UPDATE billing_subscription SET documents_used_this_period = 20 WHERE tenant_id = :t', { replacements: { t: team.tenantId } });
    const before = await footprint(team.tenantId);
    const res = await generate(team.token, { format: 'pdf', content: report });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('document_quota_exceeded');
    expect(res.body.error.message).toMatch(/20 documents a month/);
    expect(await footprint(team.tenantId)).toEqual(before);

    // Same through the tool.
    await expect(generateDocumentTool.execute({ format: 'pdf', content: report as never }, toolContext(team))).rejects.toMatchObject({ code: 'document_quota_exceeded', status: 402 });

    // One unit left → one document, then refused again.
    await db().query('UPDATE billing_subscription SET documents_used_this_period = 19 WHERE tenant_id = :t', { replacements: { t: team.tenantId } });
    expect((await generate(team.token, { format: 'pdf', content: report })).status).toBe(201);
    expect((await generate(team.token, { format: 'pdf', content: report })).status).toBe(402);
  });

  it('refuses generation while the subscription is unpaid', async () => {
    const team = await signupTeam();
    await db().query(`UPDATE billing_subscription SET status = 'unpaid' WHERE tenant_id = :t`, { replacements: { t: team.tenantId } });
    const res = await generate(team.token, { format: 'docx', content: report });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('subscription_inactive');
    expect((await footprint(team.tenantId)).documents).toBe(0);
  });

  it('a template missing a value fails with a stable code: the row says failed, the unit is given back, nothing else is touched', async () => {
    const team = await signupTeam();
    const template = (await upload(team.token, 'letter.docx', await letterTemplate())).body;
    const before = await footprint(team.tenantId);

    const res = await generate(team.token, { templateId: template.id, data: { name: 'Ada', items: [] } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'template_variable_missing', details: { missing: ['total'] } });
    const failedId = res.body.error.details.documentId;

    const row = (await call('GET', `/api/documents/${failedId}`, { token: team.token })).body;
    expect(row).toMatchObject({ status: 'failed', downloadUrl: null, fileSizeBytes: 0 });
    expect(row.errorMessage).toBe('template_variable_missing: The data has no value for "total".');
    const after = await footprint(team.tenantId);
    expect(after).toEqual({ ...before, documents: before.documents + 1, failed: 1 });
    const audit = await sql(`SELECT action FROM audit_log WHERE tenant_id = :t AND resource_id = :id`, { t: team.tenantId, id: failedId });
    expect(audit.map((a) => a.action)).toEqual(['document.generation_failed']);

    const dl = await download(team.token, `/api/documents/${failedId}/download`);
    expect(dl.status).toBe(409);
    expect(dl.json().error.code).toBe('document_failed');

    // Regenerating the failed document with the missing value completes it (and then it counts).
    const fixed = await call('POST', `/api/documents/${failedId}/versions`, { token: team.token, json: { data: { name: 'Ada', items: [], total: 42 } } });
    expect(fixed.status).toBe(201);
    expect(fixed.body).toMatchObject({ status: 'completed', errorMessage: null });
    expect(await docxText((await download(team.token, `/api/documents/${failedId}/download`)).buffer)).toContain('Total: 42 EUR');
    expect(await footprint(team.tenantId)).toMatchObject({ failed: 0, versions: 1, documentsUsed: before.documentsUsed + 1, templateUses: 1 });
  });

  it('a cancelled generation is recorded as failed and gives its unit back', async () => {
    const team = await signupTeam();
    const before = await footprint(team.tenantId);
    const controller = new AbortController();
    const progress: string[] = [];
    const run = generateDocumentTool.execute(
      { format: 'pdf', content: report as never },
      toolContext(team, 'owner', {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.message ?? '');
          if (p.progress === 0) controller.abort();
        },
      }),
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    const after = await footprint(team.tenantId);
    expect(after).toEqual({ ...before, documents: 1, failed: 1 });
    expect(progress[0]).toBe('Generating the document');
  });
});

describe('interrupted generations', () => {
  it('are settled after a while: failed with their unit given back, or back to their last version', async () => {
    const team = await signupTeam();
    const first = (await generate(team.token, { format: 'pdf', content: report })).body;
    const second = (await generate(team.token, { format: 'docx', content: report })).body;
    // As a crash would leave them: one mid-first-generation (no version, its unit taken), one mid-new-version.
    await db().query(`DELETE FROM documents_version WHERE document_id = :id`, { replacements: { id: first.id } });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await db().query(`UPDATE documents_document SET status = 'processing', file_url = NULL, updated_at = :t WHERE id = :id`, { replacements: { id: first.id, t: hourAgo } });
    await db().query(`UPDATE documents_document SET status = 'processing', updated_at = :t WHERE id = :id`, { replacements: { id: second.id, t: hourAgo } });
    // A fresh one is left alone.
    const fresh = (await generate(team.token, { format: 'xlsx', content: report })).body;
    await db().query(`UPDATE documents_document SET status = 'processing' WHERE id = :id`, { replacements: { id: fresh.id } });
    const before = await footprint(team.tenantId);

    const settled = await settleInterruptedGenerations();
    expect(settled.failed).toBeGreaterThanOrEqual(1);
    const status = async (id: string) => (await call('GET', `/api/documents/${id}`, { token: team.token })).body;
    expect(await status(first.id)).toMatchObject({ status: 'failed', errorMessage: expect.stringMatching(/^generation_interrupted: /) });
    expect(await status(second.id)).toMatchObject({ status: 'completed' });
    expect((await status(fresh.id)).status).toBe('processing');
    expect((await footprint(team.tenantId)).documentsUsed).toBe(before.documentsUsed - 1);

    // The interrupted document can be generated again.
    const again = await call('POST', `/api/documents/${first.id}/versions`, { token: team.token, json: {} });
    expect(again.body).toMatchObject({ status: 'completed' });
    expect((await footprint(team.tenantId)).documentsUsed).toBe(before.documentsUsed);
  });
});

describe('the generate_document tool', () => {
  it('returns the id, format, size and an absolute download link, reporting progress', async () => {
    const team = await signupTeam();
    const progress: number[] = [];
    const out = await generateDocumentTool.execute(
      { format: 'xlsx', content: report as never },
      toolContext(team, 'member', { channel: 'mcp', onProgress: (p) => progress.push(p.progress) }),
    );
    expect(out).toMatchObject({ title: 'Quarterly review', format: 'xlsx', status: 'completed', versionNumber: 1 });
    expect(out.downloadUrl).toBe(`https://docs.example.test/api/documents/${out.documentId}/download`);
    expect(progress).toEqual([0, 1, 2, 3]);
    const file = await download(team.token, out.downloadUrl);
    expect(file.buffer.length).toBe(out.sizeBytes);
    expect(await fileText('xlsx', file.buffer)).toContain('Two new enterprise accounts');
    const [usage] = await sql(`SELECT metadata FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'document_generated'`, { t: team.tenantId });
    expect(usage!.metadata.channel).toBe('mcp');
  });

  it('is refused to viewers', async () => {
    const team = await signupTeam();
    await expect(generateDocumentTool.execute({ format: 'pdf', content: report as never }, toolContext(team, 'viewer'))).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('the offline chat model writes a PDF from a request and answers with the link', async () => {
    const team = await signupTeam();
    const turn = await chat(team.token, { message: 'Please write a PDF memo about the Q3 offsite in Lisbon' });
    const answer = textOf(turn.message);
    const [doc] = await sql(`SELECT id, title, format, status FROM documents_document WHERE tenant_id = :t`, { t: team.tenantId });
    expect(doc).toMatchObject({ title: 'The Q3 offsite in Lisbon', format: 'pdf', status: 'completed' });
    expect(answer).toContain(`https://docs.example.test/api/documents/${doc!.id}/download`);
    const text = await fileText('pdf', (await download(team.token, `/api/documents/${doc!.id}/download`)).buffer);
    expect(text).toContain('Please write a PDF memo about the Q3 offsite in Lisbon');
  });
});
