// Markdown → DOM. marked's lexer turns the reply into tokens; we build elements for the ones we allow
// and put every string in with textContent. Raw HTML in the text (`<img onerror>`, `<script>`) is not
// HTML to us: it is shown as the literal text it is. Links open only http(s) URLs; images are shown as
// links (no remote image loads from model output).
import { Lexer, type Token, type Tokens } from 'marked';
import { append, h, link, safeUrl } from './dom.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

/** marked leaves entities as written; decode the usual ones so `&amp;` reads as `&` (still text, never HTML). */
function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6}|#39);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

export function renderMarkdown(text: string, base: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  let tokens: Token[];
  try {
    tokens = Lexer.lex(text, { gfm: true, breaks: true });
  } catch {
    frag.append(h('p', null, text));
    return frag;
  }
  blocks(frag, tokens, base);
  return frag;
}

function blocks(parent: Node, tokens: Token[], base: string): void {
  for (const t of tokens) append(parent, block(t, base));
}

function block(t: Token, base: string): Node | null {
  switch (t.type) {
    case 'space':
      return null;
    case 'paragraph':
      return inlineInto(h('p'), (t as Tokens.Paragraph).tokens, base);
    case 'heading': {
      const hd = t as Tokens.Heading;
      const tag = (['h3', 'h4', 'h5', 'h6', 'h6', 'h6'] as const)[Math.min(5, Math.max(0, hd.depth - 1))]!;
      return inlineInto(h(tag), hd.tokens, base);
    }
    case 'code':
      return h('pre', null, h('code', null, (t as Tokens.Code).text));
    case 'blockquote': {
      const q = h('blockquote');
      blocks(q, (t as Tokens.Blockquote).tokens, base);
      return q;
    }
    case 'list': {
      const l = t as Tokens.List;
      const list = l.ordered ? h('ol', typeof l.start === 'number' && l.start !== 1 ? { start: l.start } : null) : h('ul');
      for (const item of l.items) {
        const li = h('li');
        for (const c of item.tokens) {
          if (c.type === 'checkbox') append(li, (c as Tokens.Checkbox).checked ? '☑ ' : '☐ ');
          else if (c.type === 'text' && (c as Tokens.Text).tokens) inlineInto(li, (c as Tokens.Text).tokens!, base);
          else append(li, block(c, base));
        }
        list.appendChild(li);
      }
      return list;
    }
    case 'table': {
      const tb = t as Tokens.Table;
      const head = h('tr');
      for (const cell of tb.header) head.appendChild(inlineInto(h('th', { scope: 'col' }), cell.tokens, base));
      const body = h('tbody');
      for (const row of tb.rows) {
        const tr = h('tr');
        for (const cell of row) tr.appendChild(inlineInto(h('td'), cell.tokens, base));
        body.appendChild(tr);
      }
      return h('div', { class: 'fs-table' }, h('table', null, h('thead', null, head), body));
    }
    case 'hr':
      return h('hr');
    case 'html':
      return h('p', null, (t as Tokens.HTML).text);
    case 'text': {
      const tx = t as Tokens.Text;
      return tx.tokens ? inlineInto(h('p'), tx.tokens, base) : h('p', null, decode(tx.text));
    }
    default:
      return 'raw' in t && typeof t.raw === 'string' ? h('p', null, t.raw) : null;
  }
}

function inlineInto<E extends HTMLElement>(el: E, tokens: Token[] | undefined, base: string): E {
  for (const t of tokens ?? []) append(el, inline(t, base));
  return el;
}

function inline(t: Token, base: string): Node | string | null {
  switch (t.type) {
    case 'text': {
      const tx = t as Tokens.Text;
      return tx.tokens ? inlineInto(h('span'), tx.tokens, base) : decode(tx.text);
    }
    case 'escape':
      return (t as Tokens.Escape).text;
    case 'strong':
      return inlineInto(h('strong'), (t as Tokens.Strong).tokens, base);
    case 'em':
      return inlineInto(h('em'), (t as Tokens.Em).tokens, base);
    case 'del':
      return inlineInto(h('del'), (t as Tokens.Del).tokens, base);
    case 'codespan':
      return h('code', null, (t as Tokens.Codespan).text);
    case 'br':
      return h('br');
    case 'link': {
      const l = t as Tokens.Link;
      const href = safeUrl(l.href, base);
      const label = inlineInto(h('span'), l.tokens, base);
      if (!href) return label;
      const a = link(href, '');
      a.append(...label.childNodes);
      return a;
    }
    case 'image': {
      const im = t as Tokens.Image;
      const href = safeUrl(im.href, base);
      const label = `[image: ${decode(im.text || 'untitled')}]`;
      return href ? link(href, label) : label;
    }
    case 'html':
      return (t as Tokens.Tag).text;
    default:
      return 'raw' in t && typeof t.raw === 'string' ? t.raw : null;
  }
}
