// Building DOM without HTML strings: every piece of text from the server, the model or a document goes
// in through textContent / setAttribute on elements we chose, so nothing of it is ever parsed as HTML.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: any) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs)
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'text') el.textContent = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) if (c != null && c !== false) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
}

/** An http(s) URL (relative ones resolved against `base`), or null: no javascript:, data:, blob:… */
export function safeUrl(raw: unknown, base: string): string | null {
  if (typeof raw !== 'string' || !raw || raw.length > 4000) return null;
  try {
    const u = new URL(raw, base);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A link that opens in a new tab without giving the new page a handle on this one. */
export function link(href: string, text: string, extra?: Attrs): HTMLAnchorElement {
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow', ...extra }, text);
}
