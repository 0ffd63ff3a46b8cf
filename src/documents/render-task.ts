// The CPU-heavy library work of documents, as plain data in and out so it can run on a render thread
// (./render-pool.ts, ./render-worker.ts) or, with DOCUMENT_RENDER_THREADS=0, right here: writing a file
// from structured content, filling a template, inspecting an uploaded template. Errors cross the thread
// boundary as data and come back as the same AppError (code, message, status, details), so users and
// callers see exactly what an in-process render would have thrown.
import { AppError } from '../errors.js';
import type { DocumentFormat } from './formats.js';
import type { DocumentContent } from './render/content.js';
import type { TemplateData, TemplateInspection, TemplateType } from './templates/index.js';

export type RenderTask =
  | { kind: 'content'; format: DocumentFormat; content: DocumentContent }
  | { kind: 'fill'; type: TemplateType; file: Uint8Array; data: TemplateData; flatten: boolean }
  | { kind: 'inspect'; type: TemplateType; file: Uint8Array };

/** What each task gives back: a file, or an inspection's findings. */
export type RenderResult<T extends RenderTask> = T extends { kind: 'inspect' } ? TemplateInspection : Buffer;

const asBuffer = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** Runs one task in this thread. The libraries load on first use (see ./formats.ts). */
export async function runRenderTask(task: RenderTask): Promise<Buffer | TemplateInspection> {
  switch (task.kind) {
    case 'content':
      return (await (await renderers()).renderDocument(task.format, task.content)).buffer;
    case 'fill':
      return (await templates()).fillTemplate(task.type, asBuffer(task.file), task.data, { flatten: task.flatten });
    case 'inspect':
      return (await templates()).inspectTemplate(task.type, asBuffer(task.file));
  }
}

// Kept once loaded: under a loader (tsx, vitest) every import() call goes through its resolve hooks again,
// a cross-thread round trip that costs as much as rendering a small file.
let renderModule: Promise<typeof import('./render/index.js')> | undefined;
let templateModule: Promise<typeof import('./templates/index.js')> | undefined;
const renderers = () => (renderModule ??= import('./render/index.js'));
const templates = () => (templateModule ??= import('./templates/index.js'));

// ---- errors across the thread boundary ----------------------------------------------------------------

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Set for AppErrors. */
  app?: { code: string; status: number; details?: Record<string, unknown> };
  cause?: SerializedError;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message, stack: err.stack };
  if (err instanceof AppError) out.app = { code: err.code, status: err.status, details: plain(err.details) };
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

export function deserializeError(e: SerializedError): Error {
  const cause = e.cause ? deserializeError(e.cause) : undefined;
  const err = e.app
    ? new AppError(e.app.code, e.message, e.app.status as AppError['status'], { details: e.app.details, cause })
    : Object.assign(new Error(e.message, { cause }), { name: e.name });
  if (e.stack) err.stack = e.stack;
  return err;
}

/** Details are meant to be plain JSON; anything else (a Buffer, a function) is dropped rather than fail the clone. */
function plain(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
