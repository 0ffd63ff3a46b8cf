// Knowledge-base HTTP routes: thin — validate, call the command, present.
//   POST   /api/kb/documents                multipart upload: file, title?, tags (JSON array or repeated), category?
//   GET    /api/kb/documents                list (status, tag, category; paginated)
//   GET    /api/kb/documents/{id}           one document
//   DELETE /api/kb/documents/{id}           delete (chunks, storage and file go with it)
//   POST   /api/kb/documents/{id}/reprocess queue an indexed or failed document again
//   GET    /api/kb/search?q=…  POST /api/kb/search   hybrid search with citations
//   GET    /api/kb/queries                  the search log
import { AppError } from '../errors.js';
import { requireAuth } from '../http/middleware.js';
import { jsonBody, jsonRoute, Pagination, router, UuidParam, z } from '../http/openapi.js';
import { deleteKbDocument, getKbDocument, listKbDocuments, reprocessKbDocument, uploadKbDocument } from './documents.js';
import { listKbQueries } from './queries.js';
import { CategorySchema, KB_STATUSES, SearchKSchema, SearchQuerySchema, TagsSchema, TitleSchema } from './schemas.js';
import { searchKnowledgeBase } from './search.js';

const KbDocumentSchema = z
  .object({
    id: z.string().uuid(),
    title: z.string(),
    fileName: z.string(),
    fileType: z.string().nullable(),
    fileSizeBytes: z.number().nullable(),
    status: z.enum(KB_STATUSES),
    totalPages: z.number().nullable(),
    totalChunks: z.number(),
    processingTimeSeconds: z.number().nullable(),
    embeddingModel: z.string().nullable(),
    tags: z.array(z.string()),
    category: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    uploadedById: z.string().uuid(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('KbDocument');

const PassageSchema = z
  .object({
    chunkId: z.string().uuid(),
    documentId: z.string().uuid(),
    documentTitle: z.string(),
    pageNumber: z.number().nullable(),
    chunkIndex: z.number(),
    headings: z.array(z.string()),
    score: z.number(),
    similarity: z.number().nullable(),
    snippet: z.string(),
    content: z.string(),
    citation: z.number(),
  })
  .openapi('KbPassage');

const CitationSchema = z
  .object({ index: z.number(), title: z.string(), page: z.number(), documentId: z.string().uuid(), snippet: z.string() })
  .openapi('KbCitation');

const SearchResultSchema = z
  .object({
    query: z.string(),
    queryId: z.string().uuid().nullable(),
    citations: z.array(CitationSchema),
    passages: z.array(PassageSchema),
    retrievalTimeSeconds: z.number(),
    embeddingModel: z.string(),
    strategy: z.enum(['exact', 'hnsw', 'text']),
  })
  .openapi('KbSearchResult');

const KbQuerySchema = z
  .object({
    id: z.string().uuid(),
    queriedById: z.string().uuid(),
    queryText: z.string(),
    retrievedChunkIds: z.array(z.string()),
    retrievalTimeSeconds: z.number().nullable(),
    embeddingModel: z.string().nullable(),
    llmModel: z.string().nullable(),
    tokensUsed: z.number(),
    createdAt: z.date(),
  })
  .openapi('KbQuery');

/** One or several values (repeated parameter, comma-separated, or a JSON array) → a flat list. */
function manyValues(raw: unknown): string[] {
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.flatMap((v) => {
    if (typeof v !== 'string') throw new AppError('validation_error', 'tags: expected text values.', 400);
    const t = v.trim();
    if (t.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        throw new AppError('validation_error', 'tags: not a valid JSON array.', 400);
      }
      if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string'))
        throw new AppError('validation_error', 'tags: a JSON array of strings is expected.', 400);
      return parsed as string[];
    }
    return t.split(',');
  }).filter((s) => s.trim());
}

const StringOrMany = z.union([z.string(), z.array(z.string())]).optional();
const ManyTags = StringOrMany.transform(manyValues).pipe(TagsSchema);
const ManyIds = StringOrMany.transform(manyValues).pipe(z.array(z.string().uuid()).max(100));

const UploadForm = z.object({
  // Optional here so a missing file gets its own error (file_required) rather than a generic one.
  file: z.any().optional().openapi({ type: 'string', format: 'binary', description: 'Required. PDF, DOCX, XLSX, CSV, Markdown, HTML or plain text' }),
  title: z.string().optional(),
  tags: StringOrMany.openapi({ description: 'A JSON array, or the field repeated' }),
  'tags[]': StringOrMany,
  category: z.string().optional(),
});

const ListQuery = Pagination.extend({
  status: z.enum(KB_STATUSES).optional(),
  tag: ManyTags.optional().openapi({ description: 'Documents carrying every one of these tags (repeat or comma-separate)' }),
  category: CategorySchema.optional(),
});

const SearchBody = z.object({
  query: SearchQuerySchema,
  k: SearchKSchema.optional(),
  documentIds: z.array(z.string().uuid()).max(100).optional(),
  tags: TagsSchema.optional(),
});

const SearchQueryParams = z.object({
  q: SearchQuerySchema,
  k: SearchKSchema.optional(),
  documentIds: ManyIds.optional(),
  tags: ManyTags.optional(),
});

function field<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('validation_error', `${name}: ${r.error.issues[0]?.message ?? 'invalid'}`, 400);
  return r.data;
}

export const kbRoutes = router();
kbRoutes.use('/api/kb/*', requireAuth);

kbRoutes
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/kb/documents',
      tags: ['knowledge base'],
      summary: 'Upload a document to the knowledge base (members and above); it is indexed in the background',
      request: { body: { content: { 'multipart/form-data': { schema: UploadForm } }, required: true } },
      response: KbDocumentSchema,
      status: 201,
    }),
    async (c) => {
      const form = c.req.valid('form') as Record<string, unknown>;
      const file = form.file;
      if (!(file instanceof File)) throw new AppError('file_required', 'Attach the document as the "file" field of a multipart form.', 400);
      const title = form.title === undefined || form.title === '' ? undefined : field(TitleSchema, form.title, 'title');
      const tags = field(TagsSchema, [...manyValues(form.tags), ...manyValues(form['tags[]'])], 'tags');
      const category = form.category === undefined || form.category === '' ? undefined : field(CategorySchema, form.category, 'category');
      const buffer = Buffer.from(await file.arrayBuffer());
      const doc = await uploadKbDocument(c.get('auth'), { buffer, fileName: file.name || 'upload', mimeType: file.type || undefined, title, tags, category });
      return c.json(doc as never, 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/kb/documents',
      tags: ['knowledge base'],
      summary: 'List the knowledge base’s documents, newest first',
      request: { query: ListQuery },
      response: z.object({ documents: z.array(KbDocumentSchema), total: z.number() }),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json((await listKbDocuments(c.get('auth'), { ...q, tags: q.tag })) as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/kb/documents/{id}', tags: ['knowledge base'], summary: 'One knowledge-base document', request: { params: UuidParam }, response: KbDocumentSchema }),
    async (c) => c.json((await getKbDocument(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/api/kb/documents/{id}',
      tags: ['knowledge base'],
      summary: 'Delete a document with its passages and file (members: their own; managers and above: any)',
      request: { params: UuidParam },
      response: z.object({ id: z.string().uuid(), deleted: z.boolean() }),
    }),
    async (c) => c.json((await deleteKbDocument(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/kb/documents/{id}/reprocess',
      tags: ['knowledge base'],
      summary: 'Index an indexed or failed document again',
      request: { params: UuidParam },
      response: KbDocumentSchema,
    }),
    async (c) => c.json((await reprocessKbDocument(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/kb/search', tags: ['knowledge base'], summary: 'Search the knowledge base', request: { query: SearchQueryParams }, response: SearchResultSchema }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json((await searchKnowledgeBase(c.get('auth'), q.q, { k: q.k, tags: q.tags, documentIds: q.documentIds })) as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'post', path: '/api/kb/search', tags: ['knowledge base'], summary: 'Search the knowledge base', request: jsonBody(SearchBody), response: SearchResultSchema }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json((await searchKnowledgeBase(c.get('auth'), b.query, { k: b.k, tags: b.tags, documentIds: b.documentIds })) as never, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/api/kb/queries',
      tags: ['knowledge base'],
      summary: 'The search log: my searches (managers and above: the team’s)',
      request: { query: Pagination },
      response: z.object({ queries: z.array(KbQuerySchema), total: z.number() }),
    }),
    async (c) => c.json((await listKbQueries(c.get('auth'), c.req.valid('query'))) as never, 200),
  );
