// pdf-lib's standard fonts (Helvetica…) only encode WinAnsi, and throw on anything else. Agents write
// any Unicode, so text is folded to the closest WinAnsi form (accents dropped, dashes and arrows spelled
// out) and whatever has no equivalent (CJK, emoji) becomes "?": a readable file beats a failed one.
import type { PDFFont } from 'pdf-lib';

const SPELLED: Record<string, string> = {
  '\t': '    ',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2212': '-',
  '\u2190': '<-', '\u2192': '->', '\u2194': '<->', '\u21d2': '=>',
  '\u2264': '<=', '\u2265': '>=', '\u2260': '!=', '\u2248': '~',
  '\u2713': 'v', '\u2714': 'v', '\u2717': 'x', '\u2718': 'x',
  '\u0141': 'L', '\u0142': 'l', '\u0110': 'D', '\u0111': 'd', '\u0131': 'i',
  '\u2002': ' ', '\u2003': ' ', '\u2009': ' ', '\u202f': ' ', '\u200b': '', '\ufeff': '',
};

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
let encodable: Set<number> | undefined;

/** `text` with only characters `font` (any standard font: they share WinAnsi) can draw. */
export function toWinAnsi(text: string, font: PDFFont): string {
  if (PRINTABLE_ASCII.test(text)) return text; // most text: nothing to fold
  encodable ??= new Set(font.getCharacterSet());
  let out = '';
  let changed = false;
  for (const ch of text) {
    if (encodable.has(ch.codePointAt(0)!)) {
      out += ch;
      continue;
    }
    changed = true;
    out += fold(ch, encodable);
  }
  return changed ? out : text;
}

function fold(ch: string, allowed: Set<number>): string {
  const spelled = SPELLED[ch];
  if (spelled !== undefined) return spelled;
  if (ch < ' ') return ''; // control characters draw nothing
  // "ą" → "a" + combining ogonek: keep the base letter when it is encodable.
  const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
  if (base && [...base].every((c) => allowed.has(c.codePointAt(0)!))) return base;
  return '?';
}
