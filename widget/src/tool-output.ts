// Reading what tools return, without trusting it: citations (sources / citations / results with a title
// and maybe a URL) and generated files (downloadUrl, or url on a document) become plain text and
// http(s)-only links; tool inputs shown for an approval become short text pairs.
import { safeUrl } from './dom.js';

const str = (v: unknown, max = 200): string | undefined =>
  typeof v === 'string' && v.trim() ? (v.length > max ? `${v.slice(0, max - 1)}…` : v) : typeof v === 'number' ? String(v) : undefined;

export const humanize = (name: string) => {
  const s = name.replace(/[_-]+/g, ' ').trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) : 'Tool';
};

export function citationsOf(output: any, base: string): { title: string; url: string | null }[] {
  if (!output || typeof output !== 'object') return [];
  const list = [output.citations, output.sources, output.results].find(Array.isArray) as unknown[] | undefined;
  if (!list) return [];
  const out: { title: string; url: string | null }[] = [];
  for (const item of list.slice(0, 12)) {
    if (typeof item === 'string') {
      out.push({ title: str(item)!, url: null });
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    const x = item as Record<string, unknown>;
    const url = safeUrl(x.url ?? x.href ?? x.sourceUrl, base);
    const title = str(x.title) ?? str(x.documentTitle) ?? str(x.name) ?? str(x.filename) ?? str(x.source) ?? (url ? url : undefined);
    if (title) out.push({ title: x.page != null && str(x.page) ? `${title} (p. ${str(x.page)})` : title, url });
  }
  return out;
}

export function downloadsOf(output: any, base: string): { url: string; name: string }[] {
  if (!output || typeof output !== 'object') return [];
  const candidates: unknown[] = [output, output.document, output.file, ...(Array.isArray(output.documents) ? output.documents : []), ...(Array.isArray(output.files) ? output.files : [])];
  const out: { url: string; name: string }[] = [];
  for (const c of candidates) {
    if (!c || typeof c !== 'object') continue;
    const x = c as Record<string, unknown>;
    const url = safeUrl(x.downloadUrl ?? x.url, base);
    if (!url || out.some((d) => d.url === url)) continue;
    const name = str(x.filename, 120) ?? str(x.fileName, 120) ?? str(x.title, 120) ?? str(x.name, 120) ?? 'file';
    out.push({ url, name });
  }
  return out.slice(0, 5);
}

export function inputSummary(input: unknown): [string, string][] {
  if (!input || typeof input !== 'object') return [];
  return Object.entries(input as Record<string, unknown>)
    .slice(0, 6)
    .map(([k, v]) => [humanize(k), str(typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)) ?? ''] as [string, string]);
}
