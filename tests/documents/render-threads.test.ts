// Documents render on worker threads (src/documents/render-pool.ts): the event loop stays responsive
// while a large PDF renders, errors come back across the thread with their stable codes (and a failed
// generation is recorded as such), DOCUMENT_RENDER_THREADS=0 renders in-process, and idle threads keep no
// process alive.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { setConfig } from '../../src/config.js';
import { generateDocument } from '../../src/documents/generate-document.js';
import { closeRenderPool, render, renderThreads, renderThreadsRunning } from '../../src/documents/render-pool.js';
import { runRenderTask } from '../../src/documents/render-task.js';
import { AppError } from '../../src/errors.js';
import { signupTeam, testConfig, useTestApp } from '../support/harness.js';
import { footprint, letterTemplate, report, sql, testDataDir, upload } from './support.js';

const DATA_DIR = testDataDir();
useTestApp({ DATA_DIR });
afterAll(async () => {
  await closeRenderPool();
  setConfig(testConfig({ DATA_DIR }));
  rmSync(DATA_DIR, { recursive: true, force: true });
});

const bigTable = (rows: number) => ({
  title: 'Accounts',
  blocks: [{ type: 'table' as const, columns: ['Account', 'Region', 'ARR', 'Active'], rows: Array.from({ length: rows }, (_, i) => [`Account ${i + 1} with a longer name`, 'North', i * 1.5, i % 2 === 0]) }],
});

/** The longest the event loop went without running a 5 ms timer while `work` ran, and how long it took. */
async function loopGapDuring(work: () => Promise<unknown>): Promise<{ gap: number; took: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { gap: Math.max(gap, performance.now() - last), took: performance.now() - started };
}

describe('render threads', () => {
  it('keep the event loop responsive while a large PDF renders', async () => {
    expect(renderThreads()).toBeGreaterThan(0);
    const content = bigTable(3000);
    await render({ kind: 'content', format: 'pdf', content: bigTable(10) }); // a thread is up and its libraries loaded
    await runRenderTask({ kind: 'content', format: 'pdf', content: bigTable(10) });

    const inProcess = await loopGapDuring(() => runRenderTask({ kind: 'content', format: 'pdf', content }));
    let file: Buffer | undefined;
    const onThread = await loopGapDuring(async () => (file = await render({ kind: 'content', format: 'pdf', content })));
    expect(inProcess.gap).toBeGreaterThan(100); // rendering it here blocks the loop for a long while
    expect(onThread.gap).toBeLessThan(Math.min(100, inProcess.gap / 3));
    expect(file!.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(renderThreadsRunning()).toBeGreaterThan(0);
  }, 60_000);

  it('send errors back with their stable code, status and details', async () => {
    const unsupported = await render({ kind: 'content', format: 'odt' as never, content: report as never }).catch((e: unknown) => e);
    expect(unsupported).toBeInstanceOf(AppError);
    expect(unsupported).toMatchObject({ code: 'unsupported_format', status: 400 });

    const missing = await render({ kind: 'fill', type: 'word', file: await letterTemplate(), data: { name: 'Ada', items: [] }, flatten: false }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AppError);
    expect(missing).toMatchObject({ code: 'template_variable_missing', status: 422, details: { missing: ['total'] } });

    const notAZip = await render({ kind: 'inspect', type: 'excel', file: Buffer.from('not a workbook at all') }).catch((e: unknown) => e);
    expect(notAZip).toMatchObject({ code: 'invalid_template', status: 422 });

    // A library's own error stays an ordinary error (with its message and stack for the logs).
    const broken = await render({ kind: 'content', format: 'pdf', content: { title: 'T', blocks: [{ type: 'table', columns: ['a'] }] } as never }).catch((e: unknown) => e);
    expect(broken).not.toBeInstanceOf(AppError);
    expect(broken).toMatchObject({ name: 'TypeError', message: expect.stringContaining('map') });

    // And the thread is still there for the next document.
    expect((await render({ kind: 'content', format: 'docx', content: report as never })).length).toBeGreaterThan(1000);
  });

  it('a render that fails on its thread fails the generation with its code: row failed, unit given back, nothing stored', async () => {
    const team = await signupTeam();
    const before = await footprint(team.tenantId);

    // Content no edge validated (a heading level the PDF renderer has no style for): the library throws on its thread.
    const broken = await generateDocument(team.auth, { format: 'pdf', content: { title: 'T', blocks: [{ type: 'heading', text: 'x', level: 9 }] } as never }).catch((e: unknown) => e);
    expect(broken).toMatchObject({ code: 'generation_failed', status: 500, details: { documentId: expect.any(String) } });
    const [row] = await sql(`SELECT status, error_message, file_url FROM documents_document WHERE id = :id`, { id: (broken as AppError).details!.documentId });
    expect(row).toMatchObject({ status: 'failed', file_url: null, error_message: expect.stringMatching(/^generation_failed: /) });

    const template = (await upload(team.token, 'letter.docx', await letterTemplate())).body;
    const missing = await generateDocument(team.auth, { templateId: template.id, data: { name: 'Ada', items: [] } }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'template_variable_missing', status: 422, details: { missing: ['total'], documentId: expect.any(String) } });

    const after = await footprint(team.tenantId);
    expect(after).toMatchObject({ documents: 2, failed: 2, versions: 0, usage: 0, templateUses: 0, documentsUsed: before.documentsUsed });
    expect(after.files).toEqual([`templates/${template.id}.docx`]);

    // The same template fills on a thread once the data is complete.
    const filled = await generateDocument(team.auth, { templateId: template.id, data: { name: 'Ada', items: [{ title: 'Tea', price: 3 }], total: 3 } });
    expect(filled.status).toBe('completed');
  });

  it('DOCUMENT_RENDER_THREADS=0 renders on the main thread', async () => {
    await closeRenderPool();
    setConfig(testConfig({ DATA_DIR, DOCUMENT_RENDER_THREADS: '0' }));
    try {
      expect(renderThreads()).toBe(0);
      const team = await signupTeam();
      const doc = await generateDocument(team.auth, { format: 'docx', content: report as never });
      expect(doc.status).toBe('completed');
      expect(renderThreadsRunning()).toBe(0);
    } finally {
      setConfig(testConfig({ DATA_DIR }));
      await closeRenderPool();
    }
    expect(renderThreads()).toBeGreaterThan(0);
  });

  it('idle threads keep no process alive: a script that rendered on them ends by itself', () => {
    const script = path.join(os.tmpdir(), `fs-render-exit-${process.pid}-${Date.now()}.mts`);
    const src = (file: string) => pathToFileURL(path.resolve('src', file)).href;
    writeFileSync(
      script,
      `import { loadConfig, setConfig } from '${src('config.ts')}';
       import { render, renderThreadsRunning } from '${src('documents/render-pool.ts')}';
       setConfig(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
       const file = await render({ kind: 'content', format: 'xlsx', content: { title: 'T', blocks: [{ type: 'paragraph', text: 'hello' }] } });
       console.log('rendered', file.length, 'bytes on', renderThreadsRunning(), 'thread(s)');`,
    );
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 45_000 });
      expect(run.error).toBeUndefined(); // not killed by the timeout
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/rendered \d+ bytes on 1 thread/);
    } finally {
      rmSync(script, { force: true });
    }
  }, 60_000);
});
