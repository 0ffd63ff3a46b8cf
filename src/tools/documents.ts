// Document tools: list the templates, generate a document (from content the model writes, or a template
// and its data), read one, list them. They call the same commands as the HTTP routes (src/documents/),
// with the caller's tenant and user from the ToolContext; a model's arguments cannot widen them.
// Outputs never carry `tokensUsed` at the top level: MCP metering would read it as model tokens to debit.
import { z } from 'zod';
import type { AuthContext } from '../auth/context.js';
import type { Caller } from '../documents/access.js';
import { getDocument, listDocuments, listVersions } from '../documents/document-commands.js';
import { documentVisibilities, generateDocument } from '../documents/generate-document.js';
import { downloadUrl, presentDocument, presentTemplate } from '../documents/presenters.js';
import { documentFormats, templateTypes, type DocumentFormat } from '../documents/formats.js';
import { documentContentSchema } from '../documents/render/content.js';
import { listTemplates } from '../documents/template-commands.js';
import { defineTool, type ToolContext } from './registry.js';

function callerOf(ctx: ToolContext): Caller {
  const extra = ctx as ToolContext & Partial<AuthContext>;
  return { tenantId: ctx.tenantId, userId: ctx.userId, role: ctx.role, apiKeyId: ctx.apiKeyId, scopes: ctx.scopes, email: extra.email ?? '', ip: extra.ip, userAgent: extra.userAgent };
}

const kb = (bytes: number) => (bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`);

// ---- list_templates ---------------------------------------------------------------------------------

const TemplateOut = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.enum(templateTypes),
  variables: z.array(z.object({ name: z.string(), kind: z.string(), fields: z.array(z.string()).optional(), options: z.array(z.string()).optional() })),
  isPublic: z.boolean(),
  usageCount: z.number(),
});

export const listTemplatesTool = defineTool({
  name: 'list_templates',
  title: 'List document templates',
  description:
    'The document templates the user can fill: Word, PDF-form and Excel templates of the team, each with the variables its data must provide. Pass a template id and data to generate_document to fill one.',
  inputSchema: z.object({ type: z.enum(templateTypes).optional().describe('Only templates of this type: word, pdf or excel') }),
  outputSchema: z.object({ templates: z.array(TemplateOut), total: z.number() }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(list|show|which|what)\b.*\btemplates?\b/i, /\btemplates?\b.*\b(available|have|exist)\b/i],
    extract: (text) => {
      const type = /\b(word|docx)\b/i.test(text) ? 'word' : /\b(excel|xlsx|spreadsheet)\b/i.test(text) ? 'excel' : /\bpdf\b/i.test(text) ? 'pdf' : undefined;
      return type ? { type } : {};
    },
    describe: (o: { templates: { name: string; type: string; variables: { name: string }[] }[]; total: number }) =>
      o.templates.length
        ? `There ${o.total === 1 ? 'is 1 template' : `are ${o.total} templates`}: ${o.templates
            .map((t) => `${t.name} (${t.type}${t.variables.length ? `; fills ${t.variables.map((v) => v.name).join(', ')}` : ''})`)
            .join('; ')}.`
        : 'There are no document templates yet. Upload a .docx, fillable PDF or .xlsx template to use one.',
  },
  execute: async (input, ctx) => {
    const { templates, total } = await listTemplates(callerOf(ctx), { limit: 100, offset: 0, type: input.type });
    return {
      templates: templates.map((t) => {
        const { id, name, description, type, variables, isPublic, usageCount } = presentTemplate(t);
        return { id, name, description, type, variables: variables as z.infer<typeof TemplateOut>['variables'], isPublic, usageCount };
      }),
      total,
    };
  },
});

// ---- generate_document ------------------------------------------------------------------------------

const FORMAT_WORDS: [RegExp, DocumentFormat][] = [
  [/\bpdf\b/i, 'pdf'],
  [/\b(excel|xlsx|spreadsheet|workbook)\b/i, 'xlsx'],
  [/\b(word|docx)\b/i, 'docx'],
];

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A title from the request: a quoted phrase, or what follows "about/on/titled…", else the kind of document. */
export function titleFromRequest(text: string): string {
  const quoted = text.match(/["“]([^"”]{2,150})["”]/);
  if (quoted) return quoted[1]!.trim();
  const subject = text.match(/\b(?:titled|called|named|about|on|regarding|covering)\s+(.+?)\s*[.!?]*\s*$/i)?.[1];
  const cleaned = subject
    ?.replace(/\s+(?:as|in|into|to)\s+(?:an?\s+)?(?:pdf|word|docx|excel|xlsx|spreadsheet)(?:\s+(?:file|document|format))?$/i, '')
    .trim();
  if (cleaned) return capitalise(cleaned).slice(0, 150);
  const kind = text.match(/\b(report|memo|letter|spreadsheet|document)\b/i)?.[1] ?? 'document';
  return capitalise(kind.toLowerCase());
}

const GenerateOut = z.object({
  documentId: z.string(),
  title: z.string(),
  format: z.enum(documentFormats),
  status: z.string(),
  sizeBytes: z.number(),
  versionNumber: z.number(),
  downloadUrl: z.string(),
});

export const generateDocumentTool = defineTool({
  name: 'generate_document',
  title: 'Generate a document',
  description:
    'Create a real Word (.docx), PDF or Excel (.xlsx) file and return its download link. Either write `content` ' +
    '(a title and blocks: headings, paragraphs, bullet lists, tables, page breaks) with a `format`, or fill a ' +
    'template: `templateId` (see list_templates) and `data` with a value for each of its variables (the output ' +
    'format follows the template). Give the user the download link from the result.',
  inputSchema: z.object({
    format: z.enum(documentFormats).optional().describe('docx (Word, default), pdf or xlsx (Excel). Ignored for templates, which decide it.'),
    content: documentContentSchema.optional(),
    templateId: z.string().uuid().optional().describe('Fill this template instead of writing content'),
    data: z.record(z.string(), z.unknown()).optional().describe('Template values by variable name (lists of objects for Word loops)'),
    title: z.string().trim().min(1).max(255).optional().describe('File title; defaults to the content title or the template name'),
    visibility: z.enum(documentVisibilities).optional().describe('private (default), team or organization'),
  }),
  outputSchema: GenerateOut,
  minRole: 'member',
  readOnly: false,
  destructive: false,
  idempotent: false,
  needsApproval: false,
  intents: {
    patterns: [/\b(write|create|generate|draft|make|produce|prepare)\b.*\b(document|report|memo|letter|pdf|docx|word|excel|spreadsheet|xlsx)\b/i],
    extract: (text) => {
      const request = text.trim().slice(0, 20_000);
      if (!request) return undefined;
      const format = FORMAT_WORDS.find(([re]) => re.test(request))?.[1] ?? 'docx';
      const title = titleFromRequest(request);
      return { format, content: { title, blocks: [{ type: 'paragraph', text: request }] } };
    },
    describe: (o: { title: string; format: string; sizeBytes: number; downloadUrl: string }) =>
      `Your ${o.format.toUpperCase()} document "${o.title}" is ready (${kb(o.sizeBytes)}). Download it here: ${o.downloadUrl}`,
  },
  execute: async (input, ctx) => {
    // With a template, the template decides the format: a model's default "docx" must not contradict it.
    const format = input.templateId ? undefined : input.format;
    const doc = await generateDocument(callerOf(ctx), { ...input, format }, { channel: ctx.channel, signal: ctx.signal, onProgress: ctx.onProgress });
    return {
      documentId: doc.id,
      title: doc.title,
      format: doc.format,
      status: doc.status ?? 'completed',
      sizeBytes: Number(doc.fileSizeBytes ?? 0),
      versionNumber: 1,
      downloadUrl: downloadUrl(doc.id),
    };
  },
});

// ---- get_document / list_documents ------------------------------------------------------------------

const DocumentOut = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  format: z.enum(documentFormats),
  status: z.string(),
  visibility: z.string(),
  templateId: z.string().nullable(),
  fileSizeBytes: z.number(),
  errorMessage: z.string().nullable(),
  downloadUrl: z.string().nullable(),
  createdAt: z.coerce.date(),
  updatedAt: z.coerce.date(),
});

const brief = (doc: Parameters<typeof presentDocument>[0]) => {
  const p = presentDocument(doc);
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    format: p.format,
    status: p.status,
    visibility: p.visibility,
    templateId: p.templateId,
    fileSizeBytes: p.fileSizeBytes,
    errorMessage: p.errorMessage,
    downloadUrl: p.downloadUrl,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
};

const UUID_IN_TEXT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
const PREVIEW_CHARS = 4000;

export const getDocumentTool = defineTool({
  name: 'get_document',
  title: 'Get a document',
  description: 'One generated document the user can read: its status, format, size, versions, download link and a text preview of its content.',
  inputSchema: z.object({ documentId: z.string().uuid().describe('The document id') }),
  outputSchema: z.object({
    document: DocumentOut,
    versions: z.array(z.object({ versionNumber: z.number(), fileSizeBytes: z.number(), createdAt: z.coerce.date(), downloadUrl: z.string() })),
    preview: z.string().nullable(),
  }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(document|doc|file)\b.*\b[0-9a-f]{8}-[0-9a-f]{4}-/i, /\b[0-9a-f]{8}-[0-9a-f]{4}-.*\b(document|doc|file)\b/i],
    extract: (text) => {
      const id = text.match(UUID_IN_TEXT)?.[0];
      return id ? { documentId: id.toLowerCase() } : undefined;
    },
    describe: (o: { document: { title: string; format: string; status: string; downloadUrl: string | null; errorMessage: string | null }; versions: unknown[] }) => {
      const d = o.document;
      if (d.status === 'completed' && d.downloadUrl)
        return `"${d.title}" is a ${d.format.toUpperCase()} document with ${o.versions.length} version${o.versions.length === 1 ? '' : 's'}. Download it here: ${d.downloadUrl}`;
      if (d.status === 'failed') return `"${d.title}" failed to generate${d.errorMessage ? `: ${d.errorMessage}` : '.'}`;
      return `"${d.title}" is still being generated (${d.status}).`;
    },
  },
  execute: async (input, ctx) => {
    const caller = callerOf(ctx);
    const doc = await getDocument(caller, input.documentId);
    const versions = await listVersions(caller, doc.id);
    const text = doc.generatedContent;
    return {
      document: brief(doc),
      versions: versions.map(({ versionNumber, fileSizeBytes, createdAt, downloadUrl }) => ({ versionNumber, fileSizeBytes, createdAt, downloadUrl })),
      preview: text ? (text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text) : null,
    };
  },
});

export const listDocumentsTool = defineTool({
  name: 'list_documents',
  title: 'List documents',
  description: 'Generated documents the user can read (their own, shared with them, or visible to their team), newest first, with download links.',
  inputSchema: z.object({
    status: z.enum(['pending', 'processing', 'completed', 'failed']).optional(),
    format: z.enum(documentFormats).optional(),
    mine: z.boolean().optional().describe('Only documents the user created'),
    limit: z.number().int().min(1).max(50).optional().describe('How many (default 20)'),
  }),
  outputSchema: z.object({ documents: z.array(DocumentOut), total: z.number() }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    // Questions about what documents *say* belong to the knowledge base, not to this listing.
    patterns: [/^(?!.*\b(knowledge|kb|say|says|said|according|mention|about)\b).*\b(list|show|which|what|find)\b.*\b(documents|docs|reports|files)\b/i],
    extract: (text) => {
      const format = FORMAT_WORDS.find(([re]) => re.test(text))?.[1];
      return { ...(format ? { format } : {}), ...(/\b(my|i (made|created|generated))\b/i.test(text) ? { mine: true } : {}) };
    },
    describe: (o: { documents: { title: string; format: string; status: string }[]; total: number }) =>
      o.documents.length
        ? `${o.total} document${o.total === 1 ? '' : 's'}: ${o.documents.map((d) => `"${d.title}" (${d.format}, ${d.status})`).join('; ')}.`
        : 'No generated documents yet.',
  },
  execute: async (input, ctx) => {
    const { documents, total } = await listDocuments(callerOf(ctx), { limit: input.limit ?? 20, offset: 0, status: input.status, format: input.format, mine: input.mine });
    return { documents: documents.map(brief), total };
  },
});

export const documentTools = [listTemplatesTool, generateDocumentTool, getDocumentTool, listDocumentsTool];
