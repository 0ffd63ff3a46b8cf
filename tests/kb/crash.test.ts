// Durable ingestion: the queue is kb_document. A worker that dies after claiming a document — before
// writing anything, or halfway through its chunks, or killed as a real process — leaves it to be claimed
// again when its lease expires, and the re-run replaces whatever the dead one wrote. A worker that lost its
// lease can write nothing; a document that keeps killing its workers fails; claims never collide.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/db/index.js';
import { ingestKbDocument } from '../../src/kb/ingest.js';
import { OFFLINE_EMBEDDING_MODEL_ID } from '../../src/kb/offline-embedder.js';
import { claimNextKbDocument, fenced, LeaseLostError } from '../../src/kb/queue.js';
import * as fx from '../fixtures/kb/make-fixtures.js';
import { call, signupTeam, useTestApp } from '../support/harness.js';
import { chunksOf, drain, rows, upload } from './support.js';

useTestApp();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const docRow = async (id: string) => (await rows(`SELECT * FROM kb_document WHERE id = :id`, { id }))[0]!;
const expireLease = (id: string) => rows(`UPDATE kb_document SET lease_expires_at = NOW() - interval '1 second' WHERE id = :id`, { id });
const ingestOpts = { leaseSeconds: 30, maxAttempts: 3, embedBatchSize: 64, retryDelaySeconds: () => 0 };

async function queued(fileName = 'almanac.pdf') {
  const team = await signupTeam();
  const res = await upload(team.token, await fx.multiPagePdf(), fileName);
  expect(res.status).toBe(201);
  return { team, id: res.body.id as string };
}

describe('crash and resume', () => {
  it('a worker that dies right after claiming: picked up again once its lease expires', async () => {
    const { team, id } = await queued();
    const claim = await claimNextKbDocument({ leaseSeconds: 1, tenantId: team.tenantId });
    expect(claim?.id).toBe(id);
    expect(await docRow(id)).toMatchObject({ status: 'processing', attempts: 1, lease_token: claim!.leaseToken });
    // ... and the worker dies here. While the lease runs, nobody else takes the document.
    expect(await drain(team.tenantId)).toEqual([]);
    await sleep(1200);
    const done = await drain(team.tenantId);
    expect(done.map((d) => [d.documentId, d.outcome.status])).toEqual([[id, 'indexed']]);
    expect(await docRow(id)).toMatchObject({ status: 'indexed', attempts: 2, total_chunks: 3, lease_token: null, lease_expires_at: null });
  });

  it('a worker that dies halfway through its chunks: the re-run replaces what it wrote', async () => {
    const { team, id } = await queued();
    const claim = (await claimNextKbDocument({ leaseSeconds: 1, tenantId: team.tenantId }))!;
    // What the dead worker managed: the first chunk of a different (older) chunking, under its lease.
    await fenced(claim, 1, (transaction) =>
      db().query(
        `INSERT INTO kb_chunk (id, document_id, tenant_id, content, chunk_index, vector_db_id, page_number, embedding_model)
         VALUES (gen_random_uuid(), :id, :tenantId, 'stale half-written chunk', 0, 'x', 1, 'old-model'),
                (gen_random_uuid(), :id, :tenantId, 'another stale chunk', 7, 'y', 2, 'old-model')`,
        { replacements: { id, tenantId: team.tenantId }, transaction },
      ),
    );
    await expireLease(id);
    await drain(team.tenantId);
    const chunks = await chunksOf(id);
    expect(chunks.map((c) => [c.chunk_index, c.page_number, c.embedding_model])).toEqual([
      [0, 1, OFFLINE_EMBEDDING_MODEL_ID],
      [1, 2, OFFLINE_EMBEDDING_MODEL_ID],
      [2, 3, OFFLINE_EMBEDDING_MODEL_ID],
    ]);
    expect(chunks.some((c) => c.content.includes('stale'))).toBe(false);
    expect(await docRow(id)).toMatchObject({ status: 'indexed', total_chunks: 3, attempts: 2 });
  });

  it('a worker process killed mid-document (SIGKILL): another worker finishes the document', async () => {
    const { team, id } = await queued();
    // The provider answers the first embedding call and never the second: the worker is killed while waiting.
    let calls = 0;
    let secondCall!: () => void;
    const stuck = new Promise<void>((r) => (secondCall = r));
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (++calls > 1) return secondCall(); // hang
        const input: string[] = [JSON.parse(body).input].flat();
        const embedding = Array.from({ length: 384 }, (_, i) => (i === 0 ? 1 : 0));
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ object: 'list', model: 'text-embedding-3-small', data: input.map((_, index) => ({ object: 'embedding', index, embedding })), usage: { prompt_tokens: 1, total_tokens: 1 } }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const script = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, TENANT_ID: team.tenantId, LEASE_SECONDS: '2', OPENAI_BASE_URL: providerUrl, OPENAI_API_KEY: 'sk-test', EMBEDDING_MODEL: 'text-embedding-3-small', LOG_LEVEL: 'silent', DB_POOL_MAX: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      await Promise.race([stuck, sleep(45_000).then(() => Promise.reject(new Error(`the worker never reached its second batch: ${stderr}`)))]);
      // Killed halfway: one chunk written by the dead worker, the row still claimed.
      expect((await chunksOf(id)).map((c) => c.embedding_model)).toEqual(['text-embedding-3-small']);
      expect(await docRow(id)).toMatchObject({ status: 'processing', attempts: 1 });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    } finally {
      child.kill('SIGKILL');
      server.closeAllConnections();
      server.close();
    }
    // Nothing renews the lease any more; once it runs out this process's worker takes over.
    expect(await drain(team.tenantId)).toEqual([]);
    await sleep(2100);
    await drain(team.tenantId);
    const doc = await docRow(id);
    expect(doc).toMatchObject({ status: 'indexed', attempts: 2, total_chunks: 3, embedding_model: OFFLINE_EMBEDDING_MODEL_ID });
    expect((await chunksOf(id)).map((c) => c.embedding_model)).toEqual(Array(3).fill(OFFLINE_EMBEDDING_MODEL_ID));
  }, 90_000);

  it('a worker that lost its lease can write nothing; the new holder’s result stands', async () => {
    const { team, id } = await queued();
    const first = (await claimNextKbDocument({ leaseSeconds: 30, tenantId: team.tenantId }))!;
    await expireLease(id); // the first worker stalled past its lease
    const second = (await claimNextKbDocument({ leaseSeconds: 30, tenantId: team.tenantId }))!;
    expect(second.id).toBe(id);
    expect(second.leaseToken).not.toBe(first.leaseToken);
    expect((await ingestKbDocument(second, ingestOpts)).status).toBe('indexed');

    await expect(fenced(first, 30, async () => 'written')).rejects.toBeInstanceOf(LeaseLostError);
    expect(await ingestKbDocument(first, ingestOpts)).toEqual({ status: 'lost' });
    expect(await docRow(id)).toMatchObject({ status: 'indexed', total_chunks: 3, attempts: 2 });
    expect(await chunksOf(id)).toHaveLength(3);
  });

  it('a document deleted while being processed: the worker stops and writes nothing', async () => {
    const { team, id } = await queued();
    const claim = (await claimNextKbDocument({ leaseSeconds: 30, tenantId: team.tenantId }))!;
    expect((await call('DELETE', `/api/kb/documents/${id}`, { token: team.token })).status).toBe(200);
    expect(await ingestKbDocument(claim, ingestOpts)).toEqual({ status: 'lost' });
    expect(await rows(`SELECT id FROM kb_document WHERE id = :id`, { id })).toEqual([]);
    expect(await chunksOf(id)).toEqual([]);
  });

  it('a document that keeps killing its workers fails after maxAttempts claims', async () => {
    const { team, id } = await queued();
    for (let i = 0; i < 2; i++) {
      expect((await claimNextKbDocument({ leaseSeconds: 30, tenantId: team.tenantId }))?.id).toBe(id);
      await expireLease(id); // died again
    }
    const done = await drain(team.tenantId, { maxAttempts: 2 });
    expect(done.map((d) => d.outcome)).toEqual([{ status: 'failed', code: 'processing_interrupted' }]);
    const doc = await docRow(id);
    expect(doc).toMatchObject({ status: 'failed', attempts: 3 });
    expect(doc.error_message).toMatch(/^processing_interrupted: /);
  });

  it('concurrent claims never hand one document to two workers', async () => {
    const team = await signupTeam();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await upload(team.token, Buffer.from(`Note ${i}: the boiler is serviced in May.`), `n${i}.txt`)).body.id);
    const claims = await Promise.all(Array.from({ length: 5 }, () => claimNextKbDocument({ leaseSeconds: 30, tenantId: team.tenantId })));
    const got = claims.filter((c) => c !== null).map((c) => c!.id);
    expect(got.sort()).toEqual([...ids].sort());
    expect(claims.filter((c) => c === null)).toHaveLength(2);
    // Oldest first, and each finishes normally.
    for (const c of claims) if (c) expect((await ingestKbDocument(c, ingestOpts)).status).toBe('indexed');
  });
});
