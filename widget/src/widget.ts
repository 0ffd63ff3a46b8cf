// The widget: a launcher and a chat panel in a shadow root, talking to the service over Socket.IO
// (namespace /chat) with HTTP as the fallback. The conversation in view is remembered in localStorage,
// so after a reload or a dropped connection the widget reloads the history and asks the server to
// replay the reply in flight (conversation:resume, or GET /api/chat/:id/stream over HTTP).
import { io, type Socket } from 'socket.io-client';
import { Api, ApiError } from './api.js';
import { append, h, link, safeUrl } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { feed, newTurn, type Msg, type Part, type Turn } from './message.js';
import { CSS } from './styles.js';
import { citationsOf, downloadsOf, humanize, inputSummary } from './tool-output.js';

export interface WidgetOptions {
  /** Origin of the FlowSpark service (defaults to where widget.js was loaded from). */
  server: string;
  /** Tenant slug, for branding. */
  tenant?: string;
  /** A widget token (from POST /api/widget/token) or a FlowSpark session token. */
  token?: string;
  /** Called when the token is refused (expired): return a fresh one. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  open?: boolean;
  /** 'http' skips Socket.IO entirely. */
  transport?: 'auto' | 'http';
  title?: string;
}

interface Branding {
  name: string;
  logoUrl: string | null;
  primaryColor: string;
}

const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
const ICON_SEND = 'M3 20.5 21 12 3 3.5v7l12 1.5-12 1.5z';
const ICON_STOP = 'M6 6h12v12H6z';

function svg(d: string): SVGSVGElement {
  const s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', d);
  s.appendChild(p);
  return s;
}

function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : 'Something went wrong.');

/** Black or white, whichever reads better on the brand colour. */
function onColor(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const L = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return L > 0.4 ? '#111' : '#fff';
}

export class Widget {
  private host!: HTMLElement;
  private rootEl!: HTMLElement;
  private launcher!: HTMLButtonElement;
  private panel!: HTMLElement;
  private titleEl!: HTMLElement;
  private logoEl!: HTMLImageElement;
  private historyBtn!: HTMLButtonElement;
  private historyEl!: HTMLElement;
  private noticeEl!: HTMLElement;
  private connEl!: HTMLElement;
  private logEl!: HTMLElement;
  private statusEl!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private sendBtn!: HTMLButtonElement;
  private stopBtn!: HTMLButtonElement;

  private api: Api;
  private socket?: Socket;
  private token?: string;
  private refreshing?: Promise<boolean>;
  private branding: Branding = { name: 'Chat', logoUrl: null, primaryColor: '#0066CC' };
  private conversationId: string | null = null;
  private messages: Msg[] = [];
  private turns = new Map<string, Turn>();
  /** Messages whose turn ended: late replays of them are ignored (a continuation clears the mark). */
  private ended = new Set<string>();
  private nodes = new WeakMap<Msg, HTMLElement>();
  private dirty = new Set<Msg>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  private busy = false;
  private loaded = false;
  private started = false;
  private disabled?: string;
  private httpAbort?: AbortController;
  private readonly storeKey: string;

  constructor(private opts: WidgetOptions) {
    this.token = opts.token;
    this.api = new Api(opts.server, () => this.token, () => this.refreshToken());
    this.storeKey = `flowspark:${opts.server}:${opts.tenant ?? ''}`;
    if (opts.title) this.branding.name = opts.title;
  }

  // ------------------------------------------------------------------------------------------------
  // Mounting and the panel

  mount(): void {
    this.host = document.createElement('flowspark-widget');
    const shadow = this.host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else shadow.appendChild(h('style', null, CSS));

    this.launcher = h('button', { class: 'fs-launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'fs-panel', onClick: () => this.toggle() });
    this.logoEl = h('img', { alt: '', hidden: true });
    this.titleEl = h('h2', { class: 'fs-title', id: 'fs-title' });
    this.historyBtn = h('button', { class: 'fs-icon', type: 'button', 'aria-label': 'Your conversations', 'aria-expanded': 'false', 'aria-controls': 'fs-history', onClick: () => void this.toggleHistory() }, '☰');
    const newBtn = h('button', { class: 'fs-icon', type: 'button', 'aria-label': 'New conversation', onClick: () => this.newConversation() }, '+');
    const closeBtn = h('button', { class: 'fs-icon', type: 'button', 'aria-label': 'Close chat', onClick: () => this.close() }, '×');
    this.historyEl = h('nav', { class: 'fs-history', id: 'fs-history', 'aria-label': 'Your conversations', hidden: true });
    this.noticeEl = h('div', { class: 'fs-notice', role: 'alert', hidden: true });
    this.connEl = h('div', { class: 'fs-conn', hidden: true });
    this.logEl = h('div', { class: 'fs-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Messages', tabindex: '0' });
    this.statusEl = h('div', { class: 'fs-sr-only', role: 'status', 'aria-live': 'polite' });
    this.input = h('textarea', { id: 'fs-input', rows: 1, placeholder: 'Write a message…', 'aria-describedby': 'fs-hint', maxlength: 16000 });
    this.sendBtn = h('button', { class: 'fs-send', type: 'submit', 'aria-label': 'Send' }, svg(ICON_SEND));
    this.stopBtn = h('button', { class: 'fs-stop', type: 'button', 'aria-label': 'Stop the reply', hidden: true, onClick: () => void this.abort() }, svg(ICON_STOP));
    const form = h(
      'form',
      { class: 'fs-composer', onSubmit: (e: Event) => (e.preventDefault(), void this.send(this.input.value)) },
      h('label', { for: 'fs-input', class: 'fs-sr-only' }, 'Message'),
      this.input,
      h('span', { id: 'fs-hint', class: 'fs-sr-only' }, 'Enter sends, Shift+Enter starts a new line.'),
      this.sendBtn,
      this.stopBtn,
    );
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.send(this.input.value);
      }
    });
    this.input.addEventListener('input', () => {
      this.input.style.height = 'auto';
      this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
    });
    this.panel = h(
      'section',
      { class: 'fs-panel', id: 'fs-panel', role: 'dialog', 'aria-labelledby': 'fs-title', hidden: true },
      h('header', { class: 'fs-header' }, this.logoEl, this.titleEl, this.historyBtn, newBtn, closeBtn),
      this.historyEl,
      this.noticeEl,
      this.connEl,
      this.logEl,
      this.statusEl,
      form,
    );
    this.panel.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      if (!this.historyEl.hidden) this.hideHistory(true);
      else this.close();
    });
    this.rootEl = h('div', { class: 'fs-root' }, this.panel, this.launcher);
    shadow.appendChild(this.rootEl);
    document.body.appendChild(this.host);
    this.applyBranding();
    this.renderAll();
    void this.loadBranding();
    const saved = this.load();
    if (this.token) void this.start(saved.c ?? null);
    else this.disable('Sign in to chat.', false);
    // Opened by the host page's request: take focus; restored after a reload: do not steal it.
    if (this.opts.open) this.open(true);
    else if (saved.o) this.open(false);
  }

  destroy(): void {
    this.socket?.disconnect();
    this.httpAbort?.abort();
    this.host?.remove();
  }

  open(focus = true): void {
    this.panel.hidden = false;
    this.rootEl.setAttribute('data-open', '');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.launcher.setAttribute('aria-label', `Close chat with ${this.branding.name}`);
    this.save();
    this.scrollToEnd(true);
    if (focus) this.input.focus();
  }

  close(): void {
    this.panel.hidden = true;
    this.rootEl.removeAttribute('data-open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.setAttribute('aria-label', `Open chat with ${this.branding.name}`);
    this.save();
    this.launcher.focus();
  }

  toggle(): void {
    if (this.panel.hidden) this.open();
    else this.close();
  }

  /** A new token from the host page (e.g. after its own sign-in). */
  setToken(token: string): void {
    const first = !this.token;
    this.token = token;
    if (first) {
      this.enable();
      void this.start(this.load().c ?? null);
    } else if (this.socket && !this.socket.connected) this.socket.connect();
  }

  private load(): { c?: string | null; o?: boolean } {
    try {
      return JSON.parse(localStorage.getItem(this.storeKey) ?? '{}') ?? {};
    } catch {
      return {};
    }
  }

  private save(): void {
    try {
      localStorage.setItem(this.storeKey, JSON.stringify({ c: this.conversationId, o: !this.panel.hidden }));
    } catch {
      /* storage blocked: the widget still works, it just forgets on reload */
    }
  }

  private async loadBranding(): Promise<void> {
    if (!this.opts.tenant) return;
    try {
      const b = await this.api.json<Branding>('GET', `/api/widget/config?tenant=${encodeURIComponent(this.opts.tenant)}`);
      this.branding = { name: this.opts.title ?? b.name, logoUrl: b.logoUrl, primaryColor: b.primaryColor };
      this.applyBranding();
    } catch {
      /* default branding */
    }
  }

  private applyBranding(): void {
    const b = this.branding;
    const color = /^#[0-9a-f]{6}$/i.test(b.primaryColor) ? b.primaryColor : '#0066CC';
    this.rootEl.style.setProperty('--fs-primary', color);
    this.rootEl.style.setProperty('--fs-on-primary', onColor(color));
    this.titleEl.textContent = b.name;
    const logo = safeUrl(b.logoUrl, this.opts.server);
    this.launcher.replaceChildren(logo ? h('img', { src: logo, alt: '' }) : svg(ICON_CHAT));
    this.launcher.setAttribute('aria-label', `${this.panel.hidden ? 'Open' : 'Close'} chat with ${b.name}`);
    if (logo) this.logoEl.src = logo;
    this.logoEl.hidden = !logo;
  }

  private disable(message: string, alert = true): void {
    this.disabled = message;
    this.input.disabled = true;
    this.sendBtn.disabled = true;
    this.input.placeholder = message;
    if (alert) this.notice(message);
  }

  private enable(): void {
    this.disabled = undefined;
    this.input.disabled = false;
    this.sendBtn.disabled = false;
    this.input.placeholder = 'Write a message…';
    this.notice('');
  }

  private notice(message: string): void {
    this.noticeEl.textContent = message;
    this.noticeEl.hidden = !message;
  }

  private announce(message: string): void {
    this.statusEl.textContent = '';
    setTimeout(() => (this.statusEl.textContent = message), 50);
  }

  private setConnState(message: string): void {
    this.connEl.textContent = message;
    this.connEl.hidden = !message;
  }

  // ------------------------------------------------------------------------------------------------
  // Connection

  private async start(savedConversation: string | null): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.opts.transport !== 'http') this.connect();
    if (savedConversation) await this.loadConversation(savedConversation);
    this.loaded = true;
  }

  private connect(): void {
    const s = io(`${this.opts.server}/chat`, {
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      auth: (cb) => cb({ token: this.token, client: 'widget' }),
      reconnectionDelayMax: 5000,
      timeout: 10_000,
    });
    this.socket = s;
    s.on('connect', () => {
      this.setConnState('');
      if (this.loaded && this.conversationId) void this.resume();
    });
    s.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') this.setConnState('Connection lost. Reconnecting…');
    });
    s.on('connect_error', async (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (code === 'invalid_token') {
        if (await this.refreshToken()) s.connect();
        else this.disable('Your chat session has expired. Reload the page to continue.');
      } else if (code === 'origin_not_allowed') {
        this.disable(err.message);
      } else {
        this.setConnState('Connecting…');
        if (!s.active) setTimeout(() => s.connect(), 3000); // refused by the server for another reason: retry gently
      }
    });
    s.on('chat:chunk', (e: { conversationId: string; messageId: string; seq: number; chunk: any; replay?: boolean }) => {
      if (this.ended.has(e.messageId)) {
        if (e.replay) return;
        this.ended.delete(e.messageId); // a live chunk: the message continues (an approval answered elsewhere)
        this.turns.delete(e.messageId);
      }
      const t = this.turnFor(e.conversationId, e.messageId);
      if (feed(t, e.seq, e.chunk) && e.conversationId === this.conversationId) {
        if (!t.done) this.setBusy(true);
        this.queueRender(t.msg);
      }
    });
    s.on('chat:done', (e: { conversationId: string; messageId: string; status: string }) => this.onTurnEnd(e.conversationId, e.messageId, e.status));
    s.on('chat:error', (e: { conversationId: string; message?: string }) => {
      if (e.conversationId === this.conversationId && e.message) this.notice(e.message);
    });
  }

  private refreshToken(): Promise<boolean> {
    const get = this.opts.getToken;
    if (!get) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      try {
        const t = await get();
        if (t && t !== this.token) {
          this.token = t;
          return true;
        }
        return false;
      } catch {
        return false;
      } finally {
        setTimeout(() => (this.refreshing = undefined), 1000);
      }
    })();
    return this.refreshing;
  }

  private socketReady(ms: number): Promise<boolean> {
    const s = this.socket;
    if (!s) return Promise.resolve(false);
    if (s.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        s.off('connect', onConnect);
        resolve(ok);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      s.on('connect', onConnect);
    });
  }

  private async emit<T = any>(event: string, payload: unknown, ms = 20_000): Promise<T> {
    const ack = await this.socket!.timeout(ms).emitWithAck(event, payload);
    if (!ack?.ok) throw new ApiError(ack?.error?.code ?? 'error', ack?.error?.message ?? 'The chat service refused the request.');
    return ack as T;
  }

  // ------------------------------------------------------------------------------------------------
  // Conversations

  private setConversation(id: string | null): void {
    if (id === this.conversationId) return;
    this.conversationId = id;
    this.save();
    if (!id) return;
    // Chunks that came before we knew the conversation was ours (a new conversation's first reply).
    for (const t of this.turns.values())
      if (t.conversationId === id && !this.messages.includes(t.msg)) {
        this.messages.push(t.msg);
        this.queueRender(t.msg);
      }
  }

  private newConversation(): void {
    this.hideHistory(false);
    this.setConversation(null);
    this.messages = [];
    this.setBusy(false);
    this.renderAll();
    this.input.focus();
  }

  private async loadConversation(id: string): Promise<void> {
    this.conversationId = id;
    this.save();
    this.messages = [];
    this.setBusy(false);
    this.renderAll('Loading the conversation…');
    try {
      const r = await this.api.json<{ messages: Msg[] }>('GET', `/api/conversations/${encodeURIComponent(id)}/messages?limit=200`);
      if (this.conversationId !== id) return;
      this.messages = r.messages;
      for (const t of this.turns.values()) if (t.conversationId === id && !this.ended.has(t.messageId)) this.turns.delete(t.messageId);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
        this.setConversation(null);
        this.renderAll();
        return;
      }
      this.notice(errorText(e));
      return;
    }
    this.renderAll();
    await this.resume();
  }

  /** Re-attach to the reply in flight, if any: after a reload, a reconnect, or opening a conversation. */
  private async resume(): Promise<void> {
    const id = this.conversationId;
    if (!id) return;
    if (await this.socketReady(this.socket ? 3000 : 0)) {
      const existing = [...this.turns.values()].find((t) => t.conversationId === id && !t.done);
      let ack: { active: boolean; messageId: string | null };
      try {
        ack = await this.emit('conversation:resume', { conversationId: id, fromSeq: existing?.next ?? 0 }, 10_000);
      } catch {
        return;
      }
      if (this.conversationId !== id) return;
      if (ack.active && ack.messageId) {
        if (existing && existing.messageId !== ack.messageId) {
          this.turns.delete(existing.messageId);
          return this.resume();
        }
        this.ended.delete(ack.messageId);
        const t = this.turnFor(id, ack.messageId);
        this.setBusy(true);
        this.queueRender(t.msg);
      } else if (existing || this.busy) {
        if (existing) this.turns.delete(existing.messageId);
        this.setBusy(false);
        await this.reconcile();
      }
      return;
    }
    await this.httpStream('GET', `/api/chat/${encodeURIComponent(id)}/stream`, undefined).catch((e) => this.notice(errorText(e)));
  }

  /** Replace the conversation's messages with what the server stored (after a turn ends). */
  private async reconcile(): Promise<void> {
    const id = this.conversationId;
    if (!id) return;
    try {
      const r = await this.api.json<{ messages: Msg[] }>('GET', `/api/conversations/${encodeURIComponent(id)}/messages?limit=200`);
      if (this.conversationId !== id || this.busy) return;
      const kept = this.messages.filter((m) => !m.failed);
      if (r.messages.length === kept.length && r.messages.every((m, i) => m.id === kept[i]!.id)) {
        // The usual case: same messages, maybe final versions of some. Update those in place, so the
        // live region does not re-announce the whole conversation.
        r.messages.forEach((stored, i) => {
          const local = kept[i]!;
          if (JSON.stringify([local.parts, local.metadata?.status]) === JSON.stringify([stored.parts, stored.metadata?.status])) return;
          Object.assign(local, stored, { pending: false, failed: undefined });
          this.queueRender(local);
        });
        return;
      }
      this.messages = [...r.messages, ...this.messages.filter((m) => m.failed)];
      this.renderAll();
    } catch {
      /* keep what was streamed */
    }
  }

  private turnFor(conversationId: string, messageId: string): Turn {
    let t = this.turns.get(messageId);
    if (!t) {
      const base = conversationId === this.conversationId ? this.messages.find((m) => m.id === messageId) : undefined;
      t = newTurn(conversationId, messageId, base);
      if (base) base.metadata = { ...base.metadata, status: 'streaming' };
      this.turns.set(messageId, t);
      if (conversationId === this.conversationId && !base) this.messages.push(t.msg);
    }
    return t;
  }

  private onTurnEnd(conversationId: string, messageId: string, status: string): void {
    const t = this.turns.get(messageId);
    this.turns.delete(messageId);
    this.ended.add(messageId);
    if (conversationId !== this.conversationId) return;
    if (t) {
      t.done = true;
      t.msg.metadata = { ...t.msg.metadata, status };
      this.queueRender(t.msg);
    }
    this.setBusy(false);
    this.announce(
      status === 'awaiting_approval'
        ? 'The assistant needs your approval to continue.'
        : status === 'complete'
          ? 'The reply is complete.'
          : status === 'aborted'
            ? 'The reply was stopped.'
            : 'The reply failed.',
    );
    void this.reconcile();
  }

  // ------------------------------------------------------------------------------------------------
  // Sending, approving, stopping

  private async send(raw: string): Promise<void> {
    const text = raw.trim();
    if (!text || this.disabled) return;
    if (this.busy) {
      this.announce('Wait for the reply to finish, or stop it first.');
      return;
    }
    this.notice('');
    const clientId = uuid();
    const mine: Msg = { id: `local-${clientId}`, role: 'user', parts: [{ type: 'text', text }], pending: true };
    if (!this.messages.length) this.logEl.replaceChildren();
    this.messages.push(mine);
    this.queueRender(mine);
    this.input.value = '';
    this.input.style.height = '';
    this.setBusy(true);
    this.announce('Message sent.');
    try {
      if (this.socket?.connected) {
        const ack = await this.emit<{ conversationId: string; userMessageId?: string; messageId: string }>('message:send', {
          conversationId: this.conversationId ?? undefined,
          text,
          clientMessageId: clientId,
        });
        mine.pending = false;
        if (ack.userMessageId) mine.id = ack.userMessageId;
        this.setConversation(ack.conversationId);
        this.queueRender(this.turnFor(ack.conversationId, ack.messageId).msg);
      } else {
        await this.httpStream('POST', '/api/chat', { conversationId: this.conversationId ?? undefined, message: text }, mine);
      }
    } catch (e) {
      mine.pending = false;
      mine.failed = errorText(e);
      this.setBusy(false);
      this.notice(errorText(e));
    }
    this.queueRender(mine);
  }

  private async approve(msg: Msg, part: Part, approved: boolean): Promise<void> {
    const id = this.conversationId;
    const approvalId = part.approval?.id;
    if (!id || !approvalId || this.busy) return;
    part.state = 'approval-responded';
    part.approval = { ...part.approval, approved };
    this.queueRender(msg);
    this.setBusy(true);
    this.input.focus();
    this.announce(approved ? 'Approved. Running it now.' : 'Denied.');
    // The answer continues the same message: forget the previous turn's bookkeeping for it.
    this.turns.delete(msg.id);
    this.ended.delete(msg.id);
    try {
      if (this.socket?.connected) await this.emit('tool:approve', { conversationId: id, approvalId, approved });
      else
        await this.httpStream('POST', '/api/chat', {
          conversationId: id,
          messages: [{ id: msg.id, role: 'assistant', parts: [{ type: part.type, toolCallId: part.toolCallId, state: 'approval-responded', approval: { id: approvalId, approved } }] }],
        });
    } catch (e) {
      part.state = 'approval-requested';
      part.approval = { id: approvalId };
      this.setBusy(false);
      this.notice(errorText(e));
      this.queueRender(msg);
    }
  }

  private async abort(): Promise<void> {
    const id = this.conversationId;
    if (!id) return;
    try {
      if (this.socket?.connected) await this.emit('message:abort', { conversationId: id });
      else await this.api.json('POST', `/api/chat/${encodeURIComponent(id)}/abort`);
    } catch (e) {
      this.notice(errorText(e));
    }
    this.input.focus();
  }

  /** A turn over HTTP (send, approval answer or re-attach): the response is the turn's whole stream. */
  private async httpStream(method: 'GET' | 'POST', path: string, body: unknown, mine?: Msg): Promise<void> {
    let t: Turn | undefined;
    let seq = 0;
    let conversationId = this.conversationId;
    const ctrl = new AbortController();
    this.httpAbort = ctrl;
    const begin = (messageId: string) => {
      this.turns.delete(messageId);
      this.ended.delete(messageId);
      t = this.turnFor(conversationId!, messageId);
      this.setBusy(true);
      this.queueRender(t.msg);
    };
    let info;
    try {
      info = await this.api.stream(
        method,
        path,
        body,
        {
          open: (i) => {
            if (mine) mine.pending = false;
            if (i.conversationId) {
              conversationId = i.conversationId;
              this.setConversation(i.conversationId);
            }
            if (i.messageId) begin(i.messageId);
          },
          chunk: (c) => {
            if (!t) begin(c?.type === 'start' && typeof c.messageId === 'string' ? c.messageId : `http-${uuid()}`);
            if (feed(t!, seq++, c) && conversationId === this.conversationId) this.queueRender(t!.msg);
          },
        },
        ctrl.signal,
      );
    } catch (e) {
      if (t && conversationId === this.conversationId && !(e instanceof ApiError && e.status)) {
        // The connection dropped mid-reply: the turn goes on server-side; reload and re-attach.
        this.setConnState('Connection lost. Reconnecting…');
        setTimeout(() => void this.loadConversation(conversationId!).then(() => this.setConnState('')), 1500);
        return;
      }
      throw e;
    }
    if (!info || !t) {
      if (this.busy && !mine) this.setBusy(false);
      return;
    }
    this.onTurnEnd(conversationId!, t.messageId, String(t.msg.metadata?.status === 'streaming' ? 'complete' : (t.msg.metadata?.status ?? 'complete')));
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.stopBtn.hidden = !busy;
    this.sendBtn.hidden = busy;
    if (busy && this.panel.contains(this.sendBtn) && this.host.shadowRoot?.activeElement === this.sendBtn) this.input.focus();
  }

  // ------------------------------------------------------------------------------------------------
  // History panel

  private hideHistory(focusButton: boolean): void {
    this.historyEl.hidden = true;
    this.historyBtn.setAttribute('aria-expanded', 'false');
    if (focusButton) this.historyBtn.focus();
  }

  private async toggleHistory(): Promise<void> {
    if (!this.historyEl.hidden) return this.hideHistory(true);
    if (!this.token) return;
    this.historyEl.hidden = false;
    this.historyBtn.setAttribute('aria-expanded', 'true');
    this.historyEl.replaceChildren(h('h3', null, 'Your conversations'), h('p', { class: 'fs-status', role: 'status' }, 'Loading…'));
    try {
      const r = await this.api.json<{ conversations: { id: string; title: string; channel: string; lastMessageAt: string | null; updatedAt: string }[] }>('GET', '/api/conversations?limit=30');
      const list = h('ul');
      for (const c of r.conversations) {
        const when = new Date(c.lastMessageAt ?? c.updatedAt);
        list.appendChild(
          h(
            'li',
            null,
            h(
              'button',
              { type: 'button', 'aria-current': c.id === this.conversationId ? 'true' : null, onClick: () => (this.hideHistory(false), this.input.focus(), void this.loadConversation(c.id)) },
              c.title,
              h('small', null, isNaN(when.getTime()) ? '' : when.toLocaleString()),
            ),
          ),
        );
      }
      this.historyEl.replaceChildren(h('h3', null, 'Your conversations'), r.conversations.length ? list : h('p', { class: 'fs-status' }, 'No conversations yet.'));
      (list.querySelector('button') as HTMLButtonElement | null)?.focus();
    } catch (e) {
      this.historyEl.replaceChildren(h('p', { class: 'fs-notice' }, errorText(e)));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Rendering

  private renderAll(emptyText?: string): void {
    this.dirty.clear();
    this.logEl.replaceChildren();
    if (!this.messages.length)
      this.logEl.appendChild(h('p', { class: 'fs-empty' }, emptyText ?? (this.disabled ? this.disabled : `Ask ${this.branding.name} anything.`)));
    for (const m of this.messages) this.logEl.appendChild(this.renderMessage(m));
    this.scrollToEnd(true);
  }

  private queueRender(m: Msg): void {
    this.dirty.add(m);
    this.flushTimer ??= setTimeout(() => this.flush(), 30);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const stick = this.logEl.scrollHeight - this.logEl.scrollTop - this.logEl.clientHeight < 80;
    for (const m of this.dirty) {
      if (!this.messages.includes(m)) continue;
      const old = this.nodes.get(m);
      // Update in place: the log (a live region) sees one addition per message, and a reply being
      // written is aria-busy, so screen readers read it once it is complete rather than word by word.
      if (old?.parentNode === this.logEl) this.renderMessage(m, old);
      else {
        const fresh = this.renderMessage(m);
        this.logEl.querySelector('.fs-empty')?.remove();
        const next = this.messages.slice(this.messages.indexOf(m) + 1).map((x) => this.nodes.get(x)).find((n) => n?.parentNode === this.logEl);
        this.logEl.insertBefore(fresh, next ?? null);
      }
    }
    this.dirty.clear();
    this.scrollToEnd(stick);
  }

  private scrollToEnd(force: boolean): void {
    if (force) this.logEl.scrollTop = this.logEl.scrollHeight;
  }

  private renderMessage(m: Msg, into?: HTMLElement): HTMLElement {
    const streaming = m.role === 'assistant' && m.metadata?.status === 'streaming';
    const el = into ?? h('div');
    el.replaceChildren();
    el.className = `fs-msg fs-${m.role === 'user' ? 'user' : 'assistant'}${m.failed ? ' fs-failed' : ''}`;
    el.setAttribute('data-message-id', m.id);
    if (streaming) el.setAttribute('aria-busy', 'true');
    else el.removeAttribute('aria-busy');
    el.appendChild(h('span', { class: 'fs-sr-only' }, m.role === 'user' ? 'You said: ' : `${this.branding.name} said: `));
    this.nodes.set(m, el);
    if (m.role === 'user') {
      append(el, m.parts.filter((p) => p.type === 'text').map((p) => String(p.text ?? '')).join('\n'));
      if (m.pending) el.appendChild(h('div', { class: 'fs-status' }, 'Sending…'));
      if (m.failed) el.appendChild(h('div', { class: 'fs-status' }, `Not sent: ${m.failed}`));
      return el;
    }
    const sources: { title: string; url: string | null }[] = [];
    let visible = false;
    for (const p of m.parts) {
      if (p.type === 'text' && p.text) {
        el.appendChild(h('div', { class: 'fs-text' }, renderMarkdown(String(p.text), this.opts.server)));
        visible = true;
      } else if (p.type.startsWith('tool-') || p.type === 'dynamic-tool') {
        el.appendChild(this.renderTool(m, p, sources));
        visible = true;
      } else if (p.type === 'source-url') sources.push({ title: String(p.title || p.url), url: safeUrl(p.url, this.opts.server) });
      else if (p.type === 'source-document') sources.push({ title: String(p.title || p.filename || 'Document'), url: null });
      else if (p.type === 'file') {
        const url = safeUrl(p.url, this.opts.server);
        if (url) el.appendChild(this.downloadLink(url, String(p.filename ?? 'file')));
        visible = true;
      } else if (p.type === 'error') {
        el.appendChild(h('div', { class: 'fs-error-text' }, String(p.errorText)));
        visible = true;
      }
    }
    if (sources.length) el.appendChild(this.renderSources(sources));
    const status = m.metadata?.status;
    if (streaming && !visible) el.appendChild(h('span', { class: 'fs-typing', 'aria-label': 'Writing a reply' }, h('i'), h('i'), h('i')));
    if (status === 'aborted') el.appendChild(h('div', { class: 'fs-status' }, 'Stopped.'));
    if (status === 'error' && m.metadata?.error?.message && !m.parts.some((p) => p.type === 'error'))
      el.appendChild(h('div', { class: 'fs-error-text' }, String(m.metadata.error.message)));
    return el;
  }

  private renderTool(m: Msg, p: Part, sources: { title: string; url: string | null }[]): HTMLElement {
    const name = p.type === 'dynamic-tool' ? String(p.toolName ?? 'tool') : p.type.slice(5);
    const label = typeof p.title === 'string' && p.title ? p.title : humanize(name);
    const card = h('div', { class: 'fs-tool', role: 'group', 'aria-label': label, 'data-tool': name, 'data-state': String(p.state ?? '') });
    const head = h('div', { class: 'fs-tool-head' });
    card.appendChild(head);
    const state = String(p.state ?? '');
    if (state === 'input-streaming' || state === 'input-available') append(head, h('span', { class: 'fs-spin', 'aria-hidden': 'true' }), `Running ${label}…`);
    else if (state === 'approval-requested') {
      append(head, `${label} needs your approval`);
      const dl = inputSummary(p.input);
      if (dl.length) card.appendChild(h('dl', null, ...dl.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)])));
      card.appendChild(
        h(
          'div',
          { class: 'fs-actions' },
          h('button', { class: 'fs-btn fs-primary', type: 'button', 'aria-label': `Approve: ${label}`, onClick: () => void this.approve(m, p, true) }, 'Approve'),
          h('button', { class: 'fs-btn', type: 'button', 'aria-label': `Deny: ${label}`, onClick: () => void this.approve(m, p, false) }, 'Deny'),
        ),
      );
    } else if (state === 'approval-responded')
      append(head, p.approval?.approved ? h('span', { class: 'fs-spin', 'aria-hidden': 'true' }) : null, p.approval?.approved ? `Approved — running ${label}…` : `${label}: denied`);
    else if (state === 'output-available') {
      append(head, h('span', { class: 'fs-ok', 'aria-hidden': 'true' }, '✓'), label);
      for (const c of citationsOf(p.output, this.opts.server)) sources.push(c);
      for (const d of downloadsOf(p.output, this.opts.server)) card.appendChild(this.downloadLink(d.url, d.name));
    } else if (state === 'output-error') {
      append(head, h('span', { class: 'fs-err', 'aria-hidden': 'true' }, '✗'), `${label} failed`);
      if (p.errorText) card.appendChild(h('div', { class: 'fs-error-text' }, String(p.errorText)));
    } else if (state === 'output-denied') append(head, `${label} was not run: you denied it.`);
    else append(head, label);
    return card;
  }

  private renderSources(sources: { title: string; url: string | null }[]): HTMLElement {
    const ol = h('ol');
    for (const s of sources.slice(0, 12)) ol.appendChild(h('li', null, s.url ? link(s.url, s.title) : s.title));
    return h('div', { class: 'fs-sources', role: 'group', 'aria-label': 'Sources' }, h('strong', null, 'Sources'), ol);
  }

  private downloadLink(url: string, name: string): HTMLElement {
    const a = link(url, `Download ${name}`, { class: 'fs-download', download: name });
    a.addEventListener('click', (e) => {
      // Files on the service need the token: fetch them with it and save the blob.
      if (new URL(url).origin !== new URL(this.opts.server).origin) return;
      e.preventDefault();
      void this.download(url, name);
    });
    return h('div', null, a);
  }

  private async download(url: string, name: string): Promise<void> {
    try {
      const res = await this.api.get(url);
      const disposition = res.headers.get('content-disposition') ?? '';
      const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const filename = m ? decodeURIComponent(m[1]!) : name;
      const blobUrl = URL.createObjectURL(await res.blob());
      const a = h('a', { href: blobUrl, download: filename, hidden: true });
      this.panel.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(blobUrl), 30_000);
    } catch (e) {
      this.notice(`The download failed: ${errorText(e)}`);
    }
  }
}
