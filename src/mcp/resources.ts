// Knowledge-base documents and generated documents as MCP resources:
//   flowspark://kb/{id}         kb_document: its extracted text, or the uploaded file while there is none
//   flowspark://documents/{id}  documents_document: the generated file (docx/pdf/xlsx), or its text
// Every query filters on the caller's tenant; generated documents also follow their visibility
// (private: the creator and the users it is shared with; team/organization: the whole tenant). An id
// of another tenant, or one the caller may not see, reads exactly like an id that does not exist.
// The KB and documents modules own these tables; this module only reads them.
import { readableDocumentsWhere } from '../documents/access.js';
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, ResourceTemplate, type McpServer, type Resource } from '@modelcontextprotocol/server';
import { Op, cast, col, literal, where, type WhereOptions } from 'sequelize';
import { hasScope, type AuthContext } from '../auth/context.js';
import { db } from '../db/index.js';
import { isUuid } from '../ids.js';
import { Document, KbDocument } from '../db/models/index.js';
import { storage } from '../storage/index.js';
import type { McpSession } from './tools.js';

export const KB_URI = 'flowspark://kb/{id}';
export const DOCUMENT_URI = 'flowspark://documents/{id}';
export const PAGE_SIZE = 50;


const MIME_BY_TYPE: Record<string, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  markdown: 'text/markdown',
  md: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  text: 'text/plain',
  txt: 'text/plain',
};

/** The file's MIME type from the stored type (a KB type name or a MIME type) or the file name. */
export function mimeTypeOf(fileType: string | null | undefined, fileName?: string | null): string {
  if (fileType?.includes('/')) return fileType;
  const byType = fileType ? MIME_BY_TYPE[fileType.toLowerCase()] : undefined;
  if (byType) return byType;
  const ext = fileName?.match(/\.([a-z0-9]+)$/i)?.[1]?.toLowerCase();
  return (ext && MIME_BY_TYPE[ext]) || 'application/octet-stream';
}

export const canReadResources = (auth: AuthContext) => hasScope(auth, 'read') || hasScope(auth, 'chat');

/** Documents the caller may see: their own, shared with them, or team/organization-wide in their tenant. */
/** Generated documents this caller may read: the documents module's one visibility rule. */
export const visibleDocuments = (auth: AuthContext): WhereOptions => readableDocumentsWhere(auth);

const likePrefix = (value: string) => `${value.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

async function findKb(auth: AuthContext, id: string) {
  if (!isUuid(id)) return null;
  return KbDocument.findOne({ where: { id, tenantId: auth.tenantId } });
}

async function findDocument(auth: AuthContext, id: string) {
  if (!isUuid(id)) return null;
  return Document.findOne({ where: { [Op.and]: [{ id }, visibleDocuments(auth)] } });
}

async function readFile(key: string, uri: string) {
  try {
    return await storage().get(key);
  } catch {
    throw new ProtocolError(ProtocolErrorCode.InternalError, `file_unavailable: The stored file of ${uri} could not be read.`);
  }
}

// ---- listing: one cursor walks the KB documents, then the generated documents -----------------------

interface Cursor {
  s: 'kb' | 'doc';
  o: number;
}

function decodeCursor(cursor: string | undefined): Cursor {
  if (!cursor) return { s: 'kb', o: 0 };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if ((c.s === 'kb' || c.s === 'doc') && Number.isInteger(c.o) && c.o >= 0) return c;
  } catch {
    /* fall through */
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'invalid_cursor: The cursor is not one this server issued.');
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

async function listKb(auth: AuthContext, offset: number, limit: number): Promise<Resource[]> {
  const rows = await KbDocument.findAll({
    where: { tenantId: auth.tenantId },
    attributes: ['id', 'title', 'fileName', 'fileType', 'fileSizeBytes', 'status', 'updatedAt', [literal('extracted_text IS NOT NULL'), 'hasText']],
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    offset,
    limit,
  });
  return rows.map((d) => ({
    uri: `flowspark://kb/${d.id}`,
    name: `kb_document_${d.id}`,
    title: d.title,
    description: `Knowledge-base document "${d.fileName}" (${d.status ?? 'unknown status'})`,
    mimeType: d.get('hasText') ? 'text/plain' : mimeTypeOf(d.fileType, d.fileName),
    ...(d.fileSizeBytes != null ? { size: Number(d.fileSizeBytes) } : {}),
    annotations: { lastModified: new Date(d.updatedAt).toISOString() },
  }));
}

async function listDocuments(auth: AuthContext, offset: number, limit: number): Promise<Resource[]> {
  const rows = await Document.findAll({
    where: visibleDocuments(auth),
    attributes: ['id', 'title', 'format', 'status', 'fileUrl', 'fileSizeBytes', 'updatedAt'],
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
    offset,
    limit,
  });
  return rows.map((d) => ({
    uri: `flowspark://documents/${d.id}`,
    name: `document_${d.id}`,
    title: d.title,
    description: `Generated ${d.format} document (${d.status ?? 'pending'})`,
    mimeType: d.fileUrl ? mimeTypeOf(d.format) : 'text/plain',
    ...(d.fileSizeBytes != null && d.fileUrl ? { size: Number(d.fileSizeBytes) } : {}),
    annotations: { lastModified: new Date(d.updatedAt).toISOString() },
  }));
}

export async function listResources(auth: AuthContext, cursor?: string): Promise<{ resources: Resource[]; nextCursor?: string }> {
  let at = decodeCursor(cursor);
  if (!canReadResources(auth)) return { resources: [] };
  const resources: Resource[] = [];
  // Ask each source for one more than the page holds, to know whether it has more.
  while (resources.length < PAGE_SIZE) {
    const want = PAGE_SIZE - resources.length;
    const rows = at.s === 'kb' ? await listKb(auth, at.o, want + 1) : await listDocuments(auth, at.o, want + 1);
    resources.push(...rows.slice(0, want));
    if (rows.length > want) return { resources, nextCursor: encodeCursor({ s: at.s, o: at.o + want }) };
    if (at.s === 'doc') return { resources };
    at = { s: 'doc', o: 0 };
  }
  return { resources, nextCursor: encodeCursor(at) };
}

// ---- completion of ids ------------------------------------------------------------------------------

/** Ids of the caller's KB documents whose id starts with, or title contains, what was typed. */
export async function completeKbIds(auth: AuthContext, value: string): Promise<string[]> {
  if (!canReadResources(auth)) return [];
  const rows = await KbDocument.findAll({
    where: { tenantId: auth.tenantId, [Op.or]: idOrTitle(value) },
    attributes: ['id'],
    order: [['updatedAt', 'DESC']],
    limit: 20,
  });
  return rows.map((r) => r.id);
}

export async function completeDocumentIds(auth: AuthContext, value: string): Promise<string[]> {
  if (!canReadResources(auth)) return [];
  const rows = await Document.findAll({
    where: { [Op.and]: [visibleDocuments(auth), { [Op.or]: idOrTitle(value) }] },
    attributes: ['id'],
    order: [['updatedAt', 'DESC']],
    limit: 20,
  });
  return rows.map((r) => r.id);
}

function idOrTitle(value: string): WhereOptions[] {
  const v = value.trim().slice(0, 100);
  return [
    where(cast(col('id'), 'TEXT'), { [Op.like]: likePrefix(v.toLowerCase()) }),
    { title: { [Op.iLike]: `%${likePrefix(v)}` } },
  ];
}

// ---- registration -----------------------------------------------------------------------------------

export function registerResources(server: McpServer, session: McpSession): void {
  const reader = async () => {
    const auth = await session.caller();
    if (!canReadResources(auth))
      throw new ProtocolError(ProtocolErrorCode.InvalidRequest, 'forbidden: This API key has no read scope, so it cannot read resources.');
    return auth;
  };

  server.registerResource(
    'kb_document',
    new ResourceTemplate(KB_URI, { list: undefined }),
    { title: 'Knowledge-base document', description: 'A document of the team knowledge base: its extracted text, or the uploaded file.' },
    async (uri, variables) => {
      const auth = await reader();
      const doc = await findKb(auth, String(variables.id));
      if (!doc) throw new ResourceNotFoundError(uri.href);
      if (doc.extractedText != null) return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: doc.extractedText }] };
      const file = await readFile(doc.fileUrl, uri.href);
      return { contents: [{ uri: uri.href, mimeType: mimeTypeOf(doc.fileType, doc.fileName), blob: file.toString('base64') }] };
    },
  );

  server.registerResource(
    'document',
    new ResourceTemplate(DOCUMENT_URI, { list: undefined }),
    { title: 'Generated document', description: 'A document FlowSpark generated: the file, or its text while the file is not ready.' },
    async (uri, variables) => {
      const auth = await reader();
      const doc = await findDocument(auth, String(variables.id));
      if (!doc) throw new ResourceNotFoundError(uri.href);
      if (doc.fileUrl) {
        const file = await readFile(doc.fileUrl, uri.href);
        return { contents: [{ uri: uri.href, mimeType: mimeTypeOf(doc.format), blob: file.toString('base64') }] };
      }
      if (doc.generatedContent != null) return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: doc.generatedContent }] };
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        doc.status === 'failed'
          ? `document_failed: The document "${doc.title}" failed to generate${doc.errorMessage ? `: ${doc.errorMessage}` : '.'}`
          : `document_not_ready: The document "${doc.title}" is still being generated (${doc.status ?? 'pending'}). Try again shortly.`,
      );
    },
  );

  // McpServer's own resources/list has no pagination: replace it with the cursor walk above.
  server.server.setRequestHandler('resources/list', async (request) => listResources(await session.caller(), request.params?.cursor));
}
