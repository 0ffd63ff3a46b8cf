// HTTP to the service: JSON calls and the chat stream (the AI SDK UI message stream over SSE), used for
// conversation history and as the fallback when Socket.IO cannot connect. The token travels as a Bearer
// header, never as a cookie.

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface StreamInfo {
  conversationId: string | null;
  messageId: string | null;
}

export class Api {
  constructor(
    readonly base: string,
    private token: () => string | undefined,
    private refresh: () => Promise<boolean>,
  ) {}

  private async fetch(method: string, path: string, body?: unknown, signal?: AbortSignal, retried = false): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(/^https?:/.test(path) ? path : this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      throw new ApiError('network_error', 'The chat service cannot be reached. Check your connection.');
    }
    if (res.status === 401 && !retried && (await this.refresh())) return this.fetch(method, path, body, signal, true);
    if (!res.ok) {
      let err: { code?: string; message?: string } | undefined;
      try {
        err = (await res.json())?.error;
      } catch {
        /* not JSON */
      }
      throw new ApiError(err?.code ?? `http_${res.status}`, err?.message ?? `The chat service answered ${res.status}.`, res.status);
    }
    return res;
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.fetch(method, path, body)).json() as Promise<T>;
  }

  /** A raw authenticated GET (downloads; `path` may be an absolute URL on the service). */
  get(path: string): Promise<Response> {
    return this.fetch('GET', path);
  }

  /** POST /api/chat or GET /api/chat/:id/stream: `on.chunk` per UI message chunk; null when no turn is running (204). */
  async stream(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    on: { open(info: StreamInfo): void; chunk(chunk: any): void },
    signal?: AbortSignal,
  ): Promise<StreamInfo | null> {
    const res = await this.fetch(method, path, body, signal);
    if (res.status === 204 || !res.body) return null;
    const info = { conversationId: res.headers.get('x-conversation-id'), messageId: res.headers.get('x-message-id') };
    on.open(info);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i: number;
      while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
        const data = event
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (!data || data === '[DONE]') continue;
        let chunk: unknown;
        try {
          chunk = JSON.parse(data);
        } catch {
          continue; // a malformed event is skipped
        }
        on.chunk(chunk);
      }
    }
    return info;
  }
}
