// Knowledge-base tools: search (passages with citations the answer must carry) and the list of documents.
// Both call the same commands as the HTTP routes; the tenant comes from the tool context, never the model.
import { z } from 'zod';
import type { AuthContext } from '../auth/context.js';
import { listKbDocuments } from '../kb/documents.js';
import { KB_STATUSES, TagsSchema } from '../kb/schemas.js';
import { searchKnowledgeBase } from '../kb/search.js';
import { defineTool, type ToolContext } from './registry.js';

const asAuth = (ctx: ToolContext): AuthContext => ({
  tenantId: ctx.tenantId,
  userId: ctx.userId,
  role: ctx.role,
  email: '',
  apiKeyId: ctx.apiKeyId,
  scopes: ctx.scopes,
});

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`);

// Key order matters to the offline model: it numbers sources in the order it meets `title` + `page` pairs,
// so `citations` (whose index is what passages and the answer refer to) comes before `passages`.
const SearchOutput = z.object({
  query: z.string(),
  citations: z.array(z.object({ index: z.number(), title: z.string(), page: z.number(), documentId: z.string(), snippet: z.string() })),
  passages: z.array(
    z.object({
      citation: z.number(),
      documentId: z.string(),
      documentTitle: z.string(),
      pageNumber: z.number().nullable(),
      chunkIndex: z.number(),
      headings: z.array(z.string()),
      score: z.number(),
      content: z.string(),
    }),
  ),
});
type SearchOutput = z.output<typeof SearchOutput>;

/** "search the knowledge base for X" → "X"; any other message is the query as it stands. */
function queryFrom(text: string): string {
  const stripped = text
    .replace(/^\s*(please\s+)?(search|look up|look in|check)\s+(in\s+)?(the|our)?\s*(knowledge base|kb|docs|documentation|handbook)\s*(for|about|on)?\s*[:,-]?\s*/i, '')
    .trim();
  return (stripped || text).trim().slice(0, 2000);
}

export const searchKnowledgeBaseTool = defineTool({
  name: 'search_knowledge_base',
  title: 'Search the knowledge base',
  description:
    "Search the team's knowledge base (uploaded PDFs, Word, Excel, CSV, Markdown, HTML and text files) and return the most relevant passages. " +
    'Answer from these passages only and cite them as [n] using `citations` (document title and page; documents without pages count as page 1).',
  inputSchema: z.object({
    query: z.string().trim().min(1).max(2000).describe('What to look for: a question or keywords'),
    k: z.number().int().min(1).max(10).optional().describe('How many passages (default 5)'),
    tags: TagsSchema.optional().describe('Only documents carrying one of these tags'),
    documentIds: z.array(z.string().uuid()).max(50).optional().describe('Only these documents'),
  }),
  outputSchema: SearchOutput,
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [
      /\bwhat (do|does|did) (our|the company'?s?|the team'?s?)\b/i,
      /\baccording to\b/i,
      /\bin (our|the) (docs|documentation|knowledge base|kb|handbook|policy|policies|wiki|files)\b/i,
      /\b(search|look up)\b/i,
    ],
    extract: (text) => ({ query: queryFrom(text) }),
    describe: (o: SearchOutput) => {
      if (!o.passages.length) return `I found nothing in the knowledge base about "${o.query}".`;
      const lines = o.passages.slice(0, 3).map((p) => `[${p.citation}] ${clip(p.content.replace(/\s+/g, ' ').trim(), 300)}`);
      return `Here is what the knowledge base says about "${o.query}":\n${lines.join('\n')}`;
    },
  },
  execute: async (input, ctx) => {
    const r = await searchKnowledgeBase(asAuth(ctx), input.query, { k: input.k ?? 5, tags: input.tags, documentIds: input.documentIds });
    return {
      query: r.query,
      citations: r.citations,
      passages: r.passages.map((p) => ({
        citation: p.citation,
        documentId: p.documentId,
        documentTitle: p.documentTitle,
        pageNumber: p.pageNumber,
        chunkIndex: p.chunkIndex,
        headings: p.headings,
        score: p.score,
        content: p.content,
      })),
    };
  },
});

const ListOutput = z.object({
  documents: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      fileName: z.string(),
      fileType: z.string().nullable(),
      status: z.string(),
      totalPages: z.number().nullable(),
      totalChunks: z.number(),
      tags: z.array(z.string()),
      category: z.string().nullable(),
      error: z.string().nullable(),
      createdAt: z.coerce.date(),
    }),
  ),
  total: z.number(),
});
type ListOutput = z.output<typeof ListOutput>;

export const listKnowledgeDocumentsTool = defineTool({
  name: 'list_knowledge_documents',
  title: 'List knowledge-base documents',
  description: "List the documents in the team's knowledge base, newest first, with their indexing status, tags and category.",
  inputSchema: z.object({
    status: z.enum(KB_STATUSES).optional().describe('Only documents in this state'),
    tag: z.string().trim().toLowerCase().min(1).max(50).optional().describe('Only documents with this tag'),
    category: z.string().trim().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(50).optional().describe('How many (default 20)'),
  }),
  outputSchema: ListOutput,
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [
      /\b(list|show|which|what)\b.*\b(documents|files)\b.*\b(knowledge base|kb)\b/i,
      /\b(knowledge base|kb)\b.*\b(documents|files)\b.*\b(have|contain|list|are there)\b/i,
    ],
    extract: () => ({}),
    describe: (o: ListOutput) => {
      if (!o.total) return 'The knowledge base has no documents yet.';
      const shown = o.documents.slice(0, 10).map((d) => `${d.title} (${d.status})`);
      const more = o.total > shown.length ? `, and ${o.total - shown.length} more` : '';
      return `The knowledge base has ${o.total} document${o.total === 1 ? '' : 's'}: ${shown.join(', ')}${more}.`;
    },
  },
  execute: async (input, ctx) => {
    const { documents, total } = await listKbDocuments(asAuth(ctx), {
      status: input.status,
      tags: input.tag ? [input.tag] : undefined,
      category: input.category,
      limit: input.limit ?? 20,
    });
    return {
      documents: documents.map((d) => ({
        id: d.id,
        title: d.title,
        fileName: d.fileName,
        fileType: d.fileType,
        status: d.status,
        totalPages: d.totalPages,
        totalChunks: d.totalChunks,
        tags: d.tags,
        category: d.category,
        error: d.error ? `${d.error.code}: ${d.error.message}` : null,
        createdAt: d.createdAt,
      })),
      total,
    };
  },
});

export const knowledgeBaseTools = [listKnowledgeDocumentsTool, searchKnowledgeBaseTool];
