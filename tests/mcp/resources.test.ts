// MCP resources (knowledge-base and generated documents), prompts and completions, end to end over
// real HTTP with both client generations; tenant and visibility isolation.
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createUser } from '../../src/auth/users.js';
import { Document, DocumentShare, DocumentTemplate, KbDocument } from '../../src/db/models/index.js';
import { storage } from '../../src/storage/index.js';
import { connect, GENERATIONS, teamWithKey, useMcpServer, type KeyedTeam } from './support.js';

const server = useMcpServer();

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

async function kbDoc(team: KeyedTeam, title: string, opts: { text?: string; file?: Buffer; fileType?: string; fileName?: string } = {}) {
  const id = crypto.randomUUID();
  const key = `${team.tenantId}/kb/${id}/${opts.fileName ?? 'doc.txt'}`;
  if (opts.file) await storage().put(key, opts.file);
  return KbDocument.create({
    id,
    tenantId: team.tenantId,
    uploadedById: team.userId,
    title,
    fileName: opts.fileName ?? 'doc.txt',
    fileUrl: key,
    fileType: opts.fileType ?? 'text',
    fileSizeBytes: opts.file?.length ?? 10,
    status: opts.text ? 'indexed' : 'processing',
    extractedText: opts.text ?? null,
  });
}

async function generated(team: KeyedTeam, title: string, opts: { createdById?: string; visibility?: 'private' | 'team' | 'organization'; file?: Buffer; content?: string; status?: string } = {}) {
  const id = crypto.randomUUID();
  const key = opts.file ? `${team.tenantId}/documents/${id}/v1.docx` : null;
  if (opts.file) await storage().put(key!, opts.file);
  return Document.create({
    id,
    tenantId: team.tenantId,
    createdById: opts.createdById ?? team.userId,
    title,
    format: 'docx',
    status: opts.status ?? (opts.file ? 'completed' : 'processing'),
    fileUrl: key,
    fileSizeBytes: opts.file?.length ?? 0,
    generatedContent: opts.content ?? null,
    visibility: opts.visibility ?? 'private',
  });
}

/** A member of the team with a read-only key (created by the owner: members cannot create keys). */
async function memberWithKey(team: KeyedTeam) {
  const user = await createUser(team.auth, { email: `member-${crypto.randomUUID()}@example.test`, role: 'member' });
  const { key } = await createApiKey(team.auth, { name: 'member key', scopes: ['read'], userId: user.id });
  return { id: user.id, key };
}

for (const gen of GENERATIONS) {
  describe(`MCP resources (${gen} client)`, () => {
    it('lists templates and reads KB text, KB files and generated files with the right MIME type', async () => {
      const team = await teamWithKey(['read']);
      const indexed = await kbDoc(team, 'Refund policy', { text: 'Refunds within 30 days.' });
      const pdf = Buffer.from('%PDF-1.4 fake pdf bytes');
      const raw = await kbDoc(team, 'Price list', { file: pdf, fileType: 'pdf', fileName: 'prices.pdf' });
      const docx = Buffer.from('PK\x03\x04 fake docx');
      const doc = await generated(team, 'Q3 report', { file: docx, visibility: 'team' });
      const draft = await generated(team, 'Draft memo', { content: '# Memo\nHello' });
      const client = await connect(gen, server.mcpUrl, team.key);

      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((t: any) => t.uriTemplate).sort()).toEqual(['flowspark://documents/{id}', 'flowspark://kb/{id}']);

      const { resources, nextCursor } = await client.listResources();
      expect(nextCursor).toBeUndefined();
      const byUri = Object.fromEntries(resources.map((r: any) => [r.uri, r]));
      expect(byUri[`flowspark://kb/${indexed.id}`]).toMatchObject({ title: 'Refund policy', mimeType: 'text/plain' });
      expect(byUri[`flowspark://kb/${raw.id}`]).toMatchObject({ title: 'Price list', mimeType: 'application/pdf', size: pdf.length });
      expect(byUri[`flowspark://documents/${doc.id}`]).toMatchObject({ title: 'Q3 report', mimeType: DOCX });
      expect(byUri[`flowspark://documents/${draft.id}`]).toMatchObject({ title: 'Draft memo', mimeType: 'text/plain' });

      const text = await client.readResource(`flowspark://kb/${indexed.id}`);
      expect(text.contents).toEqual([{ uri: `flowspark://kb/${indexed.id}`, mimeType: 'text/plain', text: 'Refunds within 30 days.' }]);
      const file = await client.readResource(`flowspark://kb/${raw.id}`);
      expect(file.contents[0].mimeType).toBe('application/pdf');
      expect(Buffer.from(file.contents[0].blob, 'base64').equals(pdf)).toBe(true);
      const generatedFile = await client.readResource(`flowspark://documents/${doc.id}`);
      expect(generatedFile.contents[0].mimeType).toBe(DOCX);
      expect(Buffer.from(generatedFile.contents[0].blob, 'base64').equals(docx)).toBe(true);
      const draftText = await client.readResource(`flowspark://documents/${draft.id}`);
      expect(draftText.contents[0]).toMatchObject({ mimeType: 'text/plain', text: '# Memo\nHello' });

      const pending = await generated(team, 'Not yet', { status: 'pending' });
      await expect(client.readResource(`flowspark://documents/${pending.id}`)).rejects.toThrow(/document_not_ready/);
      await client.close();
    });

    it('paginates the resource list with an opaque cursor', async () => {
      const team = await teamWithKey(['read']);
      await KbDocument.bulkCreate(
        Array.from({ length: 55 }, (_, i) => ({
          tenantId: team.tenantId,
          uploadedById: team.userId,
          title: `Doc ${i}`,
          fileName: `d${i}.txt`,
          fileUrl: `${team.tenantId}/kb/d${i}.txt`,
          fileType: 'text',
          status: 'indexed',
          extractedText: `text ${i}`,
        })),
      );
      for (let i = 0; i < 3; i++) await generated(team, `Generated ${i}`, { content: 'x' });
      const client = await connect(gen, server.mcpUrl, team.key);
      let uris: string[];
      if (gen === 'v1') {
        const first = await client.listResources();
        expect(first.resources).toHaveLength(50);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await client.listResources(first.nextCursor);
        expect(second.resources).toHaveLength(8);
        expect(second.nextCursor).toBeUndefined();
        uris = [...first.resources, ...second.resources].map((r: any) => r.uri);
      } else {
        // The v2 client follows nextCursor itself when called without one.
        const all = await client.listResources();
        expect(all.nextCursor).toBeUndefined();
        uris = all.resources.map((r: any) => r.uri);
      }
      expect(new Set(uris).size).toBe(58);
      expect(uris.filter((u: string) => u.startsWith('flowspark://documents/'))).toHaveLength(3);
      await expect(client.listResources('not-a-cursor')).rejects.toThrow(/invalid_cursor/);
      await client.close();
    });

    it("never reads another tenant's documents, nor a colleague's private ones", async () => {
      const a = await teamWithKey(['read']);
      const b = await teamWithKey(['read']);
      const secret = await kbDoc(a, 'Secret plan', { text: 'tenant A only' });
      const aDoc = await generated(a, 'A team report', { content: 'A', visibility: 'organization' });
      const clientB = await connect(gen, server.mcpUrl, b.key);
      await expect(clientB.readResource(`flowspark://kb/${secret.id}`)).rejects.toThrow(/not found/i);
      await expect(clientB.readResource(`flowspark://documents/${aDoc.id}`)).rejects.toThrow(/not found/i);
      await expect(clientB.readResource('flowspark://kb/not-a-uuid')).rejects.toThrow(/not found/i);
      expect((await clientB.listResources()).resources).toEqual([]);
      await clientB.close();

      // Within tenant A: a member sees team/organization documents and those shared with them, not
      // the owner's private ones.
      const m = await memberWithKey(a);
      const privateDoc = await generated(a, 'Owner private', { content: 'private' });
      const sharedDoc = await generated(a, 'Shared with member', { content: 'shared' });
      await DocumentShare.create({ documentId: sharedDoc.id, userId: m.id });
      const clientM = await connect(gen, server.mcpUrl, m.key);
      await expect(clientM.readResource(`flowspark://documents/${privateDoc.id}`)).rejects.toThrow(/not found/i);
      expect((await clientM.readResource(`flowspark://documents/${sharedDoc.id}`)).contents[0].text).toBe('shared');
      expect((await clientM.readResource(`flowspark://documents/${aDoc.id}`)).contents[0].text).toBe('A');
      const listed = (await clientM.listResources()).resources.map((r: any) => r.uri);
      expect(listed).toContain(`flowspark://documents/${sharedDoc.id}`);
      expect(listed).toContain(`flowspark://kb/${secret.id}`);
      expect(listed).not.toContain(`flowspark://documents/${privateDoc.id}`);
      await clientM.close();
    });
  });

  describe(`MCP prompts and completions (${gen} client)`, () => {
    it('offers ask_knowledge_base and draft_document, and completes template names and document ids', async () => {
      const team = await teamWithKey(['read', 'write']);
      const other = await teamWithKey(['read']);
      await DocumentTemplate.create({ tenantId: team.tenantId, createdById: team.userId, name: 'Quarterly report', type: 'word', fileUrl: 'x', variables: [{ name: 'quarter' }, { name: 'revenue' }], isPublic: false });
      await DocumentTemplate.create({ tenantId: team.tenantId, createdById: null, name: 'Quote', type: 'pdf', fileUrl: 'x', isPublic: true });
      await DocumentTemplate.create({ tenantId: team.tenantId, createdById: null, name: 'Quiet hidden', type: 'pdf', fileUrl: 'x', isPublic: false });
      await DocumentTemplate.create({ tenantId: other.tenantId, createdById: other.userId, name: 'Quantum other tenant', type: 'word', fileUrl: 'x', isPublic: true });
      const doc = await generated(team, 'Board minutes', { content: 'minutes', visibility: 'team' });
      const client = await connect(gen, server.mcpUrl, team.key);

      const { prompts } = await client.listPrompts();
      expect(prompts.map((p: any) => p.name).sort()).toEqual(['ask_knowledge_base', 'draft_document']);

      const ask = await client.getPrompt('ask_knowledge_base', { question: 'What is the refund window?' });
      expect(ask.messages[0].role).toBe('user');
      expect(ask.messages[0].content.text).toContain('What is the refund window?');

      const draft = await client.getPrompt('draft_document', { topic: 'Q3 results', template: 'Quarterly report' });
      expect(draft.messages[0].content.text).toContain('"Quarterly report"');
      expect(draft.messages[0].content.text).toContain('quarter, revenue');
      await expect(client.getPrompt('draft_document', { topic: 'x', template: 'Quantum other tenant' })).rejects.toThrow(/not_found/);
      await expect(client.getPrompt('ask_knowledge_base', {})).rejects.toThrow(/question/);

      const names = await client.complete({ ref: { type: 'ref/prompt', name: 'draft_document' }, argument: { name: 'template', value: 'Qu' } });
      expect(names.completion.values).toEqual(['Quarterly report', 'Quote']);

      const ids = await client.complete({ ref: { type: 'ref/resource', uri: 'flowspark://documents/{id}' }, argument: { name: 'id', value: doc.id.slice(0, 6) } });
      expect(ids.completion.values).toEqual([doc.id]);
      const byTitle = await client.complete({ ref: { type: 'ref/resource', uri: 'flowspark://documents/{id}' }, argument: { name: 'id', value: 'board' } });
      expect(byTitle.completion.values).toEqual([doc.id]);
      await client.close();

      const otherClient = await connect(gen, server.mcpUrl, other.key);
      const none = await otherClient.complete({ ref: { type: 'ref/resource', uri: 'flowspark://documents/{id}' }, argument: { name: 'id', value: doc.id.slice(0, 6) } });
      expect(none.completion.values).toEqual([]);
      await otherClient.close();
    });
  });
}
