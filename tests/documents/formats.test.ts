// The light constants routes and tools use instead of loading the renderers stay equal to the libraries'
// own; and the offline model's reading of a document request (format, title, content).
import { describe, expect, it } from 'vitest';
import * as light from '../../src/documents/formats.js';
import * as render from '../../src/documents/render/index.js';
import * as templates from '../../src/documents/templates/index.js';
import { generateDocumentTool, listDocumentsTool, listTemplatesTool, titleFromRequest } from '../../src/tools/documents.js';

describe('format constants', () => {
  it('match the render and template libraries', () => {
    expect(light.documentFormats).toEqual(render.documentFormats);
    expect(light.contentTypes).toEqual(render.contentTypes);
    expect(light.templateTypes).toEqual(templates.templateTypes);
  });
});

describe('generate_document intents (offline model)', () => {
  const { patterns, extract } = generateDocumentTool.intents;
  const asks = (text: string) => patterns.some((p) => p.test(text));

  it('recognises requests for a document and picks the format from the words used', () => {
    const cases: [string, string][] = [
      ['Write a memo about the new travel policy', 'docx'],
      ['Create a PDF report on Q3 sales', 'pdf'],
      ['Make me a spreadsheet of the team budget', 'xlsx'],
      ['Draft a letter to our landlord as a Word document', 'docx'],
      ['Generate an xlsx covering open invoices', 'xlsx'],
    ];
    for (const [text, format] of cases) {
      expect(asks(text)).toBe(true);
      const args = extract!(text)!;
      expect(args.format).toBe(format);
      expect(generateDocumentTool.inputSchema.safeParse(args).success).toBe(true);
      expect((args.content as any).blocks).toEqual([{ type: 'paragraph', text }]);
    }
    expect(asks('What is our refund policy?')).toBe(false);
    expect(asks('Show me my documents')).toBe(false);
  });

  it('takes the title from a quoted phrase or the subject of the request', () => {
    expect(titleFromRequest('Write a memo titled "Offsite logistics" for the team')).toBe('Offsite logistics');
    expect(titleFromRequest('Create a PDF report on Q3 sales.')).toBe('Q3 sales');
    expect(titleFromRequest('Draft a letter about the lease renewal as a Word document')).toBe('The lease renewal');
    expect(titleFromRequest('Make a spreadsheet')).toBe('Spreadsheet');
  });

  it('lets list tools take "show my documents" and "which templates", but not knowledge-base questions', () => {
    expect(listDocumentsTool.intents.patterns.some((p) => p.test('Show me my documents'))).toBe(true);
    expect(listDocumentsTool.intents.extract!('list my pdf documents')).toEqual({ format: 'pdf', mine: true });
    expect(listDocumentsTool.intents.patterns.some((p) => p.test('List the documents in the knowledge base'))).toBe(false);
    expect(listTemplatesTool.intents.patterns.some((p) => p.test('Which templates do we have?'))).toBe(true);
  });
});
