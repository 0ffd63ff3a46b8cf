// HTTP routes for templates and generated documents. Thin: auth → validate → command → presenter.
// The template routes are registered before /api/documents/{id} so "templates" is never read as an id.
import { createRoute } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { config } from '../config.js';
import { AppError } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { requireAuth } from '../http/middleware.js';
import { ErrorSchema, jsonBody, jsonRoute, Pagination, router, UuidParam, z } from '../http/openapi.js';
import { attachmentDisposition } from './content-disposition.js';
import { deleteDocument, getDocument, listDocuments, listVersions, readDocumentFile, updateDocument } from './document-commands.js';
import { createDocumentVersion, documentVisibilities, generateDocument } from './generate-document.js';
import { presentDocument, presentTemplate } from './presenters.js';
import { documentFormats, templateTypes } from './formats.js';
import { documentContentSchema } from './render/content.js';
import { listShares, shareDocument, unshareDocument } from './sharing.js';
import { deleteTemplate, getTemplate, listTemplates, uploadTemplate } from './template-commands.js';

const DocumentSchema = z
  .object({
    id: z.string().uuid(),
    title: z.string(),
    description: z.string().nullable(),
    format: z.enum(documentFormats),
    status: z.enum(['pending', 'processing', 'completed', 'failed']),
    visibility: z.enum(documentVisibilities),
    templateId: z.string().uuid().nullable(),
    createdById: z.string().uuid(),
    fileSizeBytes: z.number().int(),
    generationTimeSeconds: z.number().nullable(),
    tokensUsed: z.number().int(),
    modelUsed: z.string().nullable(),
    errorMessage: z.string().nullable(),
    downloadUrl: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Document');

const TemplateSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string().nullable(),
    type: z.enum(templateTypes),
    variables: z.array(z.object({ name: z.string(), kind: z.string(), fields: z.array(z.string()).optional(), options: z.array(z.string()).optional() })),
    isPublic: z.boolean(),
    usageCount: z.number().int(),
    createdById: z.string().uuid().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('DocumentTemplate');

const VersionSchema = z
  .object({ versionNumber: z.number().int(), fileSizeBytes: z.number().int(), createdById: z.string().uuid().nullable(), createdAt: z.date(), downloadUrl: z.string() })
  .openapi('DocumentVersion');

const ShareSchema = z.object({ userId: z.string().uuid(), email: z.string(), sharedAt: z.date().nullable() }).openapi('DocumentShare');

const TemplateData = z.record(z.string(), z.unknown()).describe('Values for the template variables, by name (lists of objects for Word loops).');

const GenerateBody = z
  .object({
    title: z.string().trim().min(1).max(255).optional().describe('Defaults to the content’s title or the template’s name.'),
    description: z.string().max(5000).optional(),
    format: z.enum(documentFormats).optional().describe('From content: docx (default), pdf or xlsx. From a template: follows the template type.'),
    content: documentContentSchema.optional(),
    templateId: z.string().uuid().optional(),
    data: TemplateData.optional(),
    flatten: z.boolean().optional().describe('PDF templates: bake the values into the page.'),
    visibility: z.enum(documentVisibilities).optional().describe('private (default): you and the users you share with; team: your department; organization: everyone in the team.'),
  })
  .openapi('GenerateDocument');

const VersionBody = z
  .object({
    title: z.string().trim().min(1).max(255).optional(),
    content: documentContentSchema.optional().describe('New content (documents written from content); omit to regenerate from the same content.'),
    data: TemplateData.optional().describe('New data (documents filled from a template); omit to regenerate from the same data.'),
    flatten: z.boolean().optional(),
  })
  .openapi('NewDocumentVersion');

const UpdateBody = z
  .object({
    title: z.string().trim().min(1).max(255).optional(),
    description: z.string().max(5000).nullable().optional(),
    visibility: z.enum(documentVisibilities).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'give at least one of title, description, visibility');

const UploadForm = z.object({
  file: z.instanceof(File, { message: 'attach the template file as the "file" field' }).openapi({ type: 'string', format: 'binary' }),
  name: z.string().trim().max(255).optional(),
  description: z.string().max(5000).optional(),
  isPublic: z.enum(['true', 'false', '1', '0']).optional().describe('"true": every member of the team can see and use it.'),
  type: z.enum(templateTypes).optional().describe('Optional: checked against the file.'),
});

const VersionParam = UuidParam.extend({ n: z.coerce.number().int().min(1).max(1_000_000).openapi({ param: { name: 'n', in: 'path' } }) });
const UserParam = UuidParam.extend({ userId: z.string().uuid().openapi({ param: { name: 'userId', in: 'path' } }) });

const ListQuery = Pagination.extend({
  status: z.enum(['pending', 'processing', 'completed', 'failed']).optional(),
  format: z.enum(documentFormats).optional(),
  mine: z.enum(['true', 'false']).optional().describe('"true": only documents I created.'),
});

function downloadRoute(path: '/api/documents/{id}/download' | '/api/documents/{id}/versions/{n}/download', summary: string) {
  return createRoute({
    method: 'get',
    path,
    tags: ['documents'],
    summary,
    request: { params: path.includes('{n}') ? VersionParam : UuidParam },
    security: [{ bearer: [] }],
    responses: {
      200: {
        description: 'The file, with Content-Disposition: attachment and the document’s title as its name',
        content: Object.fromEntries(['application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'].map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }])),
      },
      404: { description: 'Not found', content: { 'application/json': { schema: ErrorSchema } } },
      409: { description: 'Not ready or failed', content: { 'application/json': { schema: ErrorSchema } } },
    },
  });
}

async function sendFile(c: Context<AppEnv>, id: string, versionNumber?: number) {
  const file = await readDocumentFile(c.get('auth'), id, versionNumber);
  c.header('Content-Type', file.contentType);
  c.header('Content-Disposition', attachmentDisposition(file.fileName));
  c.header('Content-Length', String(file.buffer.length));
  c.header('Cache-Control', 'private, no-store');
  c.header('X-Content-Type-Options', 'nosniff');
  return c.body(new Uint8Array(file.buffer), 200);
}

/** Refuse an oversized upload from its Content-Length before the body is read. */
const uploadLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const length = Number(c.req.header('content-length') ?? 0);
  const max = config().MAX_UPLOAD_BYTES;
  if (c.req.method === 'POST' && length > max + 64 * 1024)
    throw new AppError('file_too_large', `The file is larger than the ${Math.round(max / 1024 / 1024)} MB upload limit.`, 413);
  await next();
};

export const documentRoutes = router();
documentRoutes.use('/api/documents', requireAuth);
documentRoutes.use('/api/documents/*', requireAuth);
documentRoutes.use('/api/documents/templates', uploadLimit);

const channel = (c: Context<AppEnv>) => (c.get('auth').apiKeyId ? 'api' : 'web');

documentRoutes
  // ---- templates ----
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/documents/templates',
      tags: ['document templates'],
      summary: 'Upload a template: Word .docx with {placeholders}, a fillable PDF form, or Excel .xlsx with {{placeholders}}',
      request: { body: { content: { 'multipart/form-data': { schema: UploadForm } }, required: true } },
      response: TemplateSchema,
      status: 201,
    }),
    async (c) => {
      const form = c.req.valid('form');
      const template = await uploadTemplate(c.get('auth'), {
        fileName: form.file.name,
        mimeType: form.file.type,
        data: Buffer.from(await form.file.arrayBuffer()),
        name: form.name,
        description: form.description,
        isPublic: form.isPublic === 'true' || form.isPublic === '1',
        type: form.type,
      });
      return c.json(presentTemplate(template) as never, 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/documents/templates',
      tags: ['document templates'],
      summary: 'Templates I can use: the team’s public ones and my own (admins: all)',
      request: { query: Pagination.extend({ type: z.enum(templateTypes).optional() }) },
      response: z.object({ templates: z.array(TemplateSchema), total: z.number() }),
    }),
    async (c) => {
      const { templates, total } = await listTemplates(c.get('auth'), c.req.valid('query'));
      return c.json({ templates: templates.map(presentTemplate), total } as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/documents/templates/{id}', tags: ['document templates'], summary: 'One template and its variables', request: { params: UuidParam }, response: TemplateSchema }),
    async (c) => c.json(presentTemplate(await getTemplate(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/documents/templates/{id}', tags: ['document templates'], summary: 'Delete a template and its file (its creator or an admin)', request: { params: UuidParam }, response: z.object({ deleted: z.boolean() }) }),
    async (c) => {
      await deleteTemplate(c.get('auth'), c.req.valid('param').id);
      return c.json({ deleted: true }, 200);
    },
  )
  // ---- documents ----
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/documents',
      tags: ['documents'],
      summary: 'Generate a document from structured content, or from a template and its data',
      description: 'Takes one document of the month’s allowance. A failed generation answers with the error (details.documentId names the failed row) and gives the unit back.',
      request: jsonBody(GenerateBody),
      response: DocumentSchema,
      status: 201,
    }),
    async (c) => {
      const doc = await generateDocument(c.get('auth'), c.req.valid('json'), { channel: channel(c), signal: c.req.raw.signal });
      return c.json(presentDocument(doc) as never, 201);
    },
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/documents', tags: ['documents'], summary: 'Documents I can read, newest first', request: { query: ListQuery }, response: z.object({ documents: z.array(DocumentSchema), total: z.number() }) }),
    async (c) => {
      const q = c.req.valid('query');
      const { documents, total } = await listDocuments(c.get('auth'), { ...q, mine: q.mine === 'true' });
      return c.json({ documents: documents.map(presentDocument), total } as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/documents/{id}', tags: ['documents'], summary: 'One document', request: { params: UuidParam }, response: DocumentSchema }),
    async (c) => c.json(presentDocument(await getDocument(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'patch', path: '/api/documents/{id}', tags: ['documents'], summary: 'Rename, describe or change the visibility of a document (its creator or an admin)', request: { params: UuidParam, ...jsonBody(UpdateBody) }, response: DocumentSchema }),
    async (c) => c.json(presentDocument(await updateDocument(c.get('auth'), c.req.valid('param').id, c.req.valid('json'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/documents/{id}', tags: ['documents'], summary: 'Delete a document, its versions and files (its creator or an admin)', request: { params: UuidParam }, response: z.object({ deleted: z.boolean() }) }),
    async (c) => {
      await deleteDocument(c.get('auth'), c.req.valid('param').id);
      return c.json({ deleted: true }, 200);
    },
  )
  .openapi(downloadRoute('/api/documents/{id}/download', 'Download the current file'), (c) => sendFile(c, c.req.valid('param').id) as never)
  .openapi(
    jsonRoute({ method: 'get', path: '/api/documents/{id}/versions', tags: ['documents'], summary: 'The document’s versions, newest first', request: { params: UuidParam }, response: z.object({ versions: z.array(VersionSchema) }) }),
    async (c) => c.json({ versions: await listVersions(c.get('auth'), c.req.valid('param').id) } as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/documents/{id}/versions',
      tags: ['documents'],
      summary: 'Regenerate (empty body) or edit (new content or data): a new version becomes current (its creator or an admin)',
      request: { params: UuidParam, ...jsonBody(VersionBody) },
      response: DocumentSchema,
      status: 201,
    }),
    async (c) => {
      const doc = await createDocumentVersion(c.get('auth'), c.req.valid('param').id, c.req.valid('json'), { channel: channel(c), signal: c.req.raw.signal });
      return c.json(presentDocument(doc) as never, 201);
    },
  )
  .openapi(downloadRoute('/api/documents/{id}/versions/{n}/download', 'Download one version’s file'), (c) => {
    const { id, n } = c.req.valid('param') as { id: string; n: number };
    return sendFile(c, id, n) as never;
  })
  .openapi(
    jsonRoute({ method: 'get', path: '/api/documents/{id}/shares', tags: ['documents'], summary: 'Who the document is shared with (its creator or an admin)', request: { params: UuidParam }, response: z.object({ shares: z.array(ShareSchema) }) }),
    async (c) => c.json({ shares: await listShares(c.get('auth'), c.req.valid('param').id) } as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/documents/{id}/share',
      tags: ['documents'],
      summary: 'Share with users of my team (its creator or an admin)',
      request: { params: UuidParam, ...jsonBody(z.object({ userIds: z.array(z.string().uuid()).min(1).max(100) })) },
      response: z.object({ shares: z.array(ShareSchema) }),
    }),
    async (c) => c.json({ shares: await shareDocument(c.get('auth'), c.req.valid('param').id, c.req.valid('json').userIds) } as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/documents/{id}/share/{userId}', tags: ['documents'], summary: 'Stop sharing with one user (its creator or an admin)', request: { params: UserParam }, response: z.object({ shares: z.array(ShareSchema) }) }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      return c.json({ shares: await unshareDocument(c.get('auth'), id, userId) } as never, 200);
    },
  );
