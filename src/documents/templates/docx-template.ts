// Word templates: {name} tags and {#items}…{/items} loops, parsed and filled by docxtemplater. Its own
// InspectModule lists the tags, so what we report at upload is exactly what a fill will look up.
import Docxtemplater from 'docxtemplater';
import inspectModuleExport from 'docxtemplater/js/inspect-module.js';
import PizZip from 'pizzip';
import { assertNothingMissing, invalidTemplate } from './template-errors.js';
import type { TemplateData, TemplateVariable } from './template-variable.js';
import { checkZip } from './zip-limits.js';

type Part = Docxtemplater.DXT.Part;
// Its typings declare an ES default export, but under Node the default import is module.exports itself.
const InspectModule = inspectModuleExport as unknown as typeof inspectModuleExport.default;
const KIND = 'Word (.docx)';

export function inspectDocxTemplate(buf: Buffer): TemplateVariable[] {
  const variables = new Map<string, TemplateVariable>();
  for (const part of compile(buf).tags) {
    const known = variables.get(part.value);
    const kind = part.module === 'loop' ? 'loop' : 'text';
    const fields = kind === 'loop' ? tagNames(part.subparsed ?? []) : undefined;
    if (!known) variables.set(part.value, { name: part.value, kind, ...(fields ? { fields } : {}) });
    else if (fields) known.fields = [...new Set([...(known.fields ?? []), ...fields])];
  }
  return [...variables.values()].filter((v) => v.name !== '.');
}

export function fillDocxTemplate(buf: Buffer, data: TemplateData): Buffer {
  const { doc, tags } = compile(buf);
  assertNothingMissing([...new Set(findMissing(tags, [data], ''))]);
  try {
    doc.render(data);
  } catch (error) {
    throw invalidTemplate('The Word template could not be filled: ' + describe(error), error);
  }
  return doc.getZip().generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

function compile(buf: Buffer): { doc: Docxtemplater; tags: Part[] } {
  if (!checkZip(buf, KIND).has('word/document.xml')) {
    throw invalidTemplate('This file is a zip archive but not a Word document (.docx).');
  }
  const inspect = new InspectModule();
  try {
    const doc = new Docxtemplater(new PizZip(buf), {
      modules: [inspect],
      paragraphLoop: true, // a loop alone in its paragraph repeats the paragraph, not an empty line
      linebreaks: true,
      nullGetter: () => '', // an explicit null prints nothing rather than "undefined"
      errorLogging: false, // it would print to the console; our error carries it as `cause`
    });
    return { doc, tags: inspect.getAllStructuredTags() };
  } catch (error) {
    throw invalidTemplate('The Word template has tag errors: ' + describe(error), error);
  }
}

const tagNames = (parts: Part[]) => [...new Set(parts.map((p) => p.value).filter((v) => v !== '.'))];

/**
 * Tags the data cannot fill, looked up as docxtemplater does: in the loop item first, then outwards.
 * Only sections that will render are walked, so an empty list or a false condition needs no item fields.
 */
function findMissing(parts: Part[], scopes: unknown[], prefix: string): string[] {
  const missing: string[] = [];
  for (const part of parts) {
    if (part.value === '.') continue;
    const value = lookup(scopes, part.value);
    if (value === undefined) {
      missing.push(prefix + part.value);
      continue;
    }
    if (part.module !== 'loop' || !part.subparsed) continue;
    const inner = `${prefix}${part.value}.`;
    if (part.inverted) {
      const empty = !value || (Array.isArray(value) && value.length === 0);
      if (empty) missing.push(...findMissing(part.subparsed, scopes, inner));
    } else if (Array.isArray(value)) {
      for (const item of value) missing.push(...findMissing(part.subparsed, [item, ...scopes], inner));
    } else if (value && typeof value === 'object') {
      missing.push(...findMissing(part.subparsed, [value, ...scopes], inner));
    } else if (value) {
      missing.push(...findMissing(part.subparsed, scopes, inner));
    }
  }
  return missing;
}

function lookup(scopes: unknown[], name: string): unknown {
  for (const scope of scopes) {
    if (scope && typeof scope === 'object' && (scope as Record<string, unknown>)[name] !== undefined) {
      return (scope as Record<string, unknown>)[name];
    }
  }
  return undefined;
}

/** docxtemplater reports several tag errors at once; users get the first few explanations. */
function describe(error: unknown): string {
  type Explained = { properties?: { explanation?: string } };
  const props = (error as { properties?: { errors?: Explained[]; explanation?: string } }).properties;
  const explanations = (props?.errors ?? [{ properties: props }])
    .map((e) => e.properties?.explanation)
    .filter((e): e is string => !!e);
  return explanations.length ? explanations.slice(0, 3).join('; ') : (error as Error).message;
}
