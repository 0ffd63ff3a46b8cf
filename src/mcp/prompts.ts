// Prompts an MCP client can offer its user: ask the team knowledge base, draft a document from one of
// the team's templates. Both name the tools the caller can actually use (the registry decides), so the
// prompt stays true as tools are added. Completions: template names (the caller's tenant: public
// templates and their own) and document ids of the two resource templates.
import { ProtocolError, ProtocolErrorCode, type CompleteResult, type GetPromptResult, type McpServer } from '@modelcontextprotocol/server';
import { Op } from 'sequelize';
import { z } from 'zod';
import type { AuthContext } from '../auth/context.js';
import { DocumentTemplate } from '../db/models/index.js';
import { toolsFor } from '../tools/index.js';
import { completeDocumentIds, completeKbIds, DOCUMENT_URI, KB_URI } from './resources.js';
import type { McpSession } from './tools.js';

const escapeLike = (v: string) => v.replace(/[\\%_]/g, (m) => `\\${m}`);

/** Templates the caller may use: in their tenant, public or their own. */
const usableTemplates = (auth: AuthContext) => ({ tenantId: auth.tenantId, [Op.or]: [{ isPublic: true }, { createdById: auth.userId }] });

export async function completeTemplateNames(auth: AuthContext, value: string): Promise<string[]> {
  const rows = await DocumentTemplate.findAll({
    where: { [Op.and]: [usableTemplates(auth), { name: { [Op.iLike]: `${escapeLike(value.trim().slice(0, 100))}%` } }] },
    attributes: ['name'],
    order: [['name', 'ASC']],
    limit: 20,
  });
  return [...new Set(rows.map((r) => r.name))];
}

const toolNames = (auth: AuthContext, pattern: RegExp) => toolsFor(auth).filter((t) => pattern.test(t.name)).map((t) => t.name);

function userMessage(text: string, description: string): GetPromptResult {
  return { description, messages: [{ role: 'user', content: { type: 'text', text } }] };
}

function variableNames(variables: unknown): string[] {
  if (!Array.isArray(variables)) return [];
  return variables
    .map((v) => (typeof v === 'string' ? v : ((v as { name?: unknown; key?: unknown })?.name ?? (v as { key?: unknown })?.key)))
    .filter((n): n is string => typeof n === 'string' && n.length > 0);
}

// Built once: a server instance is made per request, and the schemas do not depend on the caller.
const askArgs = z.object({ question: z.string().trim().min(1).max(2000).describe('The question to answer') });
const draftArgs = z.object({
  topic: z.string().trim().min(1).max(2000).describe('What the document is about and what it must contain'),
  template: z.string().trim().max(255).optional().describe('Name of a team template to follow (completions available)'),
});

export function registerPrompts(server: McpServer, session: McpSession): void {
  server.registerPrompt(
    'ask_knowledge_base',
    { title: 'Ask the knowledge base', description: "Answer a question from the team's knowledge base, citing the documents used.", argsSchema: askArgs },
    async ({ question }) => {
      const auth = await session.caller();
      const search = toolNames(auth, /knowledge_base|^search_/);
      const how = search.length
        ? `Use the ${search.map((n) => `\`${n}\``).join(' / ')} tool to find the relevant passages first.`
        : 'Read the relevant knowledge-base resources (flowspark://kb/{id}) first.';
      return userMessage(
        `${how} Then answer the question below using only what the knowledge base says, and name the documents you relied on. ` +
          `If the knowledge base does not answer it, say so plainly.\n\nQuestion: ${question}`,
        'Answer from the knowledge base',
      );
    },
  );

  server.registerPrompt(
    'draft_document',
    { title: 'Draft a document', description: 'Draft a document, optionally from one of the team templates, and generate it when a tool allows.', argsSchema: draftArgs },
    async ({ topic, template }) => {
      const auth = await session.caller();
      let templateLine = '';
      if (template) {
        const t = await DocumentTemplate.findOne({ where: { [Op.and]: [usableTemplates(auth), { name: template }] } });
        if (!t) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `not_found: Template "${template}" was not found.`);
        const vars = variableNames(t.variables);
        templateLine =
          `Follow the template "${t.name}" (${t.type})${t.description ? `: ${t.description}` : ''}.` +
          (vars.length ? ` Provide a value for each of its variables: ${vars.join(', ')}.` : '') +
          '\n\n';
      }
      const generate = toolNames(auth, /document/).filter((n) => /^(generate|create)_/.test(n));
      const finish = generate.length
        ? `When the draft is ready, call the \`${generate[0]}\` tool to produce the file.`
        : 'Return the draft as Markdown.';
      return userMessage(`${templateLine}Draft a document about the following. ${finish}\n\nTopic: ${topic}`, 'Draft a document');
    },
  );
}

const NO_COMPLETION: CompleteResult = { completion: { values: [], hasMore: false } };
const completion = (values: string[]): CompleteResult => ({ completion: { values: values.slice(0, 100), total: values.length, hasMore: false } });

/**
 * completion/complete for the draft_document template argument and the {id} of both resource
 * templates. Handled here rather than through the SDK's `completable()` so the prompt schemas can be
 * built once instead of per request.
 */
export function registerCompletions(server: McpServer, session: McpSession): void {
  server.server.setRequestHandler('completion/complete', async (request) => {
    const { ref, argument } = request.params;
    const value = String(argument.value ?? '');
    if (ref.type === 'ref/prompt') {
      if (ref.name === 'draft_document' && argument.name === 'template') return completion(await completeTemplateNames(await session.caller(), value));
      if (ref.name === 'draft_document' || ref.name === 'ask_knowledge_base') return NO_COMPLETION;
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${ref.name} not found`);
    }
    if (ref.type === 'ref/resource') {
      if (argument.name !== 'id') return NO_COMPLETION;
      if (ref.uri === KB_URI) return completion(await completeKbIds(await session.caller(), value));
      if (ref.uri === DOCUMENT_URI) return completion(await completeDocumentIds(await session.caller(), value));
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource template ${ref.uri} not found`);
    }
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid completion reference');
  });
}
