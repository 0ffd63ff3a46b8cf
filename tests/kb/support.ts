// Helpers for the knowledge-base tests: multipart uploads through the app, running the tenant's ingestion
// queue, plain SQL reads of what was stored, and more people in a team.
import fs from 'node:fs';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { createSession } from '../../src/auth/sessions.js';
import { createUser } from '../../src/auth/users.js';
import { config } from '../../src/config.js';
import { db } from '../../src/db/index.js';
import { drainKbQueue, type KbWorkerOptions } from '../../src/kb/worker.js';
import { app, uniqueEmail, type Team } from '../support/harness.js';

export const rows = <T extends object = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}) =>
  db().query<T>(sql, { replacements, type: QueryTypes.SELECT });

export interface Person {
  token: string;
  userId: string;
  tenantId: string;
}

export async function addPerson(team: Team, role: 'manager' | 'member' | 'viewer'): Promise<Person> {
  const user = await createUser(team.auth, { email: uniqueEmail(role), role });
  const session = await createSession(user, { ip: '127.0.0.1', userAgent: 'vitest' });
  return { token: session.token, userId: user.id, tenantId: team.tenantId };
}

export interface UploadFields {
  title?: string;
  tags?: string[] | string;
  category?: string;
  mimeType?: string;
  /** Send tags as repeated `tags[]` fields instead of one JSON array. */
  repeatedTags?: boolean;
}

export async function upload(token: string, buffer: Buffer, fileName: string, fields: UploadFields = {}) {
  const form = new FormData();
  form.append('file', new File([new Uint8Array(buffer)], fileName, { type: fields.mimeType ?? '' }));
  if (fields.title !== undefined) form.append('title', fields.title);
  if (fields.category !== undefined) form.append('category', fields.category);
  if (typeof fields.tags === 'string') form.append('tags', fields.tags);
  else if (fields.tags && fields.repeatedTags) for (const t of fields.tags) form.append('tags[]', t);
  else if (fields.tags) form.append('tags', JSON.stringify(fields.tags));
  const res = await app().request('/api/kb/documents', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/** Ingest everything queued for the tenant now (no back-off between retries). */
export const drain = (tenantId: string, opts: KbWorkerOptions = {}) =>
  drainKbQueue({ tenantId, retryDelaySeconds: () => 0, ...opts });

/**
 * Run the tenant's queue, then wait until the document is indexed or failed. (Another test process's server
 * may run a worker on the shared database and take the document first; the result is the same.)
 */
export async function settle(tenantId: string, documentId: string, timeoutMs = 20_000) {
  await drain(tenantId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [doc] = await rows(`SELECT * FROM kb_document WHERE id = :documentId`, { documentId });
    if (!doc || doc.status === 'indexed' || doc.status === 'failed' || Date.now() > deadline) return doc!;
    await new Promise((r) => setTimeout(r, 100));
    await drain(tenantId);
  }
}

/** Upload and ingest; returns the stored row. */
export async function ingest(token: string, tenantId: string, buffer: Buffer, fileName: string, fields: UploadFields = {}) {
  const res = await upload(token, buffer, fileName, fields);
  if (res.status !== 201) throw new Error(`upload of ${fileName} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return settle(tenantId, res.body.id);
}

export const chunksOf = (documentId: string) =>
  rows<{ id: string; tenant_id: string; content: string; chunk_index: number; page_number: number | null; metadata: any; has_embedding: boolean; embedding_model: string; vector_db_id: string }>(
    `SELECT id, tenant_id, content, chunk_index, page_number, metadata, embedding IS NOT NULL AS has_embedding, embedding_model, vector_db_id
       FROM kb_chunk WHERE document_id = :documentId ORDER BY chunk_index`,
    { documentId },
  );

export async function storageUsedGb(tenantId: string): Promise<number> {
  const [s] = await rows<{ gb: number }>(`SELECT storage_used_gb AS gb FROM billing_subscription WHERE tenant_id = :tenantId`, { tenantId });
  return Number(s?.gb ?? 0);
}

/** Files under the tenant's KB storage prefix. */
export function storedFiles(tenantId: string): string[] {
  const dir = path.join(config().dataDir, 'files', tenantId, 'kb');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Everything a refused upload must leave untouched. */
export async function footprint(tenantId: string) {
  const [r] = await rows<{ docs: number; chunks: number; audits: number }>(
    `SELECT (SELECT count(*) FROM kb_document WHERE tenant_id = :tenantId)::int AS docs,
            (SELECT count(*) FROM kb_chunk WHERE tenant_id = :tenantId)::int AS chunks,
            (SELECT count(*) FROM audit_log WHERE tenant_id = :tenantId AND action LIKE 'kb.%')::int AS audits`,
    { tenantId },
  );
  return { ...r!, storageGb: await storageUsedGb(tenantId), files: storedFiles(tenantId).length };
}
