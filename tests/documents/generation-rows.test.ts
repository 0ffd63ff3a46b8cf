// The database side of a generation, written in one statement per step on the usual path
// (src/documents/generation-rows.ts): the rows it leaves are exactly those of the general code (usage
// and audit columns included), the allowance is never over-taken by concurrent generations, and the
// cases the one-statement path leaves to the general code (storage full, a free period due for its
// roll-over) end as they always did.
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { setConfig } from '../../src/config.js';
import { db } from '../../src/db/index.js';
import { Document } from '../../src/db/models/index.js';
import { generateDocument } from '../../src/documents/generate-document.js';
import { addMonths } from '../../src/util/dates.js';
import { signupTeam, testConfig, useTestApp, type Team } from '../support/harness.js';
import { footprint, report, sql, testDataDir } from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR });
afterAll(() => {
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

const setSubscription = (team: Team, set: string, replacements: Record<string, unknown> = {}) =>
  db().query(`UPDATE billing_subscription SET ${set} WHERE tenant_id = :t`, { replacements: { ...replacements, t: team.tenantId } });

const near = (d: Date, ms = 60_000) => Math.abs(+d - Date.now()) < ms;

describe('the rows of a generation', () => {
  it('are those the general code writes: document, version, storage, usage and audit (ip, user agent, API key)', async () => {
    const team = await signupTeam();
    const caller = { ...team.auth, apiKeyId: '7b0c6f9e-2f44-4a8e-9d55-0d6f3f1a2b3c', ip: '::ffff:10.1.2.3', userAgent: 'u'.repeat(1200) };
    const before = await footprint(team.tenantId);

    const doc = await generateDocument(caller, { format: 'xlsx', content: report as never, description: 'Q2' }, { channel: 'slack' });

    // The returned model instance carries the completed row.
    expect(doc.constructor.name).toBe('Document');
    expect(doc.toJSON()).toMatchObject({ id: doc.id, tenantId: team.tenantId, createdById: team.userId, templateId: null, title: 'Quarterly review', description: 'Q2', format: 'xlsx', status: 'completed', tokensUsed: 0, modelUsed: 'none', errorMessage: null, visibility: 'private' });
    expect(doc.fileUrl).toBe(`${team.tenantId}/documents/${doc.id}/v1.xlsx`);
    expect(doc.fileSizeBytes).toBeGreaterThan(1000);
    expect(doc.generationTimeSeconds).toBeGreaterThan(0);
    expect(doc.inputData).toMatchObject({ source: 'content', content: { title: 'Quarterly review' } });
    expect(doc.generatedContent).toContain('Churn down to 1.8%');
    expect(near(doc.createdAt) && near(doc.updatedAt)).toBe(true); // stored as UTC, read back as the same instant
    // Every attribute as stored (the large input columns are not read back, so they must match the row).
    expect(doc.toJSON()).toEqual((await Document.findByPk(doc.id))!.toJSON());

    const [version] = await sql(`SELECT * FROM documents_version WHERE document_id = :id`, { id: doc.id });
    expect(version).toMatchObject({ version_number: 1, file_url: doc.fileUrl, created_by_id: team.userId });
    expect(JSON.parse(version!.content_snapshot)).toEqual({ format: 'xlsx', fileSizeBytes: doc.fileSizeBytes, input: { source: 'content', content: report } });
    expect(near(version!.created_at)).toBe(true);

    const details = { format: 'xlsx', versionNumber: 1, sizeBytes: doc.fileSizeBytes, templateId: null };
    const [usage] = await sql(`SELECT * FROM analytics_usage WHERE tenant_id = :t AND activity_type = 'document_generated'`, { t: team.tenantId });
    expect(usage).toMatchObject({ user_id: team.userId, tokens_used: 0, execution_time_seconds: doc.generationTimeSeconds, metadata: { documentId: doc.id, ...details, channel: 'slack' } });
    expect(near(usage!.created_at)).toBe(true);

    const [audit] = await sql(`SELECT * FROM audit_log WHERE tenant_id = :t AND resource_id = :id`, { t: team.tenantId, id: doc.id });
    expect(audit).toMatchObject({ user_id: team.userId, action: 'document.generated', resource_type: 'document', details: { ...details, apiKeyId: caller.apiKeyId }, ip_address: '10.1.2.3' });
    expect(audit!.user_agent).toBe('u'.repeat(1000));
    expect(near(audit!.created_at)).toBe(true);

    const after = await footprint(team.tenantId);
    expect(after).toMatchObject({ documents: 1, versions: 1, usage: 1, documentsUsed: before.documentsUsed + 1 });
    expect(after.storageBytes - before.storageBytes).toBeGreaterThanOrEqual(doc.fileSizeBytes! - 1);
  });
});

describe('round trips', () => {
  it('a generation is three statements: pending row with its unit, processing, completion with everything it records', async () => {
    const team = await signupTeam();
    await generateDocument(team.auth, { format: 'docx', content: report as never }); // renderers loaded, pool warm
    // Every statement sent on any connection, through Sequelize or straight through pg.
    const sent = vi.spyOn(pg.Client.prototype, 'query');
    let statements: string[];
    try {
      await generateDocument(team.auth, { format: 'docx', content: report as never });
      statements = sent.mock.calls.map(([q]) => (typeof q === 'string' ? q : (q as { text: string }).text));
    } finally {
      sent.mockRestore();
    }
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatch(/UPDATE billing_subscription[\s\S]*INSERT INTO documents_document/);
    expect(statements[1]).toMatch(/SET status = 'processing'/);
    expect(statements[2]).toMatch(/INSERT INTO documents_version[\s\S]*INSERT INTO analytics_usage[\s\S]*INSERT INTO audit_log/);
  });
});

describe('the allowance and the storage, taken by the one-statement steps', () => {
  it('concurrent generations take exactly the units left, and the refused ones leave no row', async () => {
    const team = await signupTeam();
    const [{ max }] = (await sql(`SELECT p.max_documents_per_month AS max FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id WHERE s.tenant_id = :t`, { t: team.tenantId })) as [{ max: number }];
    await setSubscription(team, 'documents_used_this_period = :n', { n: max - 3 });

    const results = await Promise.allSettled(Array.from({ length: 8 }, () => generateDocument(team.auth, { format: 'docx', content: report as never })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]) expect(r.reason).toMatchObject({ code: 'document_quota_exceeded', status: 402 });
    expect(await footprint(team.tenantId)).toMatchObject({ documents: 3, failed: 0, versions: 3, usage: 3, documentsUsed: max });
  });

  it('storage full when the file is recorded: storage_quota_exceeded, the row failed, its unit given back, its file removed', async () => {
    const team = await signupTeam();
    const [{ gb }] = (await sql(`SELECT p.max_storage_gb AS gb FROM billing_subscription s JOIN billing_plan p ON p.id = s.plan_id WHERE s.tenant_id = :t`, { t: team.tenantId })) as [{ gb: number }];
    await setSubscription(team, 'storage_used_gb = :full', { full: gb });
    const before = await footprint(team.tenantId);

    const err = await generateDocument(team.auth, { format: 'pdf', content: report as never }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'storage_quota_exceeded', status: 402, details: { documentId: expect.any(String) } });
    const [row] = await sql(`SELECT status, error_message, file_url FROM documents_document WHERE tenant_id = :t`, { t: team.tenantId });
    expect(row).toMatchObject({ status: 'failed', file_url: null, error_message: expect.stringMatching(/^storage_quota_exceeded: /) });
    expect(await footprint(team.tenantId)).toEqual({ ...before, documents: 1, failed: 1 });
  });

  it('a free period that has ended is rolled over first (its counter reset), then the document counts in the new one', async () => {
    const team = await signupTeam();
    const start = new Date(Date.now() - 40 * 86_400_000);
    await setSubscription(team, `status = 'active', current_period_start = :start, current_period_end = :end, documents_used_this_period = 20`, { start, end: addMonths(start, 1) });

    await generateDocument(team.auth, { format: 'docx', content: report as never });
    const [s] = await sql(`SELECT documents_used_this_period AS used, current_period_start AS start FROM billing_subscription WHERE tenant_id = :t`, { t: team.tenantId });
    expect(s).toMatchObject({ used: 1 });
    expect(+s!.start).toBe(+addMonths(start, 1));
  });
});
