// /widget.js: the widget client (widget/src, TypeScript) bundled with esbuild's JS API into one
// minified IIFE on first use, then served from memory (plain and gzip). Built at start-up too, so the
// first visitor does not wait; nothing to prebuild, so `npm ci && npm start` is enough.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const WIDGET_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../widget/src/index.ts');

export interface WidgetBundle {
  code: Buffer;
  gzip: Buffer;
  etag: string;
}

let pending: Promise<WidgetBundle> | undefined;

export function widgetBundle(): Promise<WidgetBundle> {
  pending ??= buildWidgetBundle().catch((err) => {
    pending = undefined; // try again on the next request
    throw err;
  });
  return pending;
}

export async function buildWidgetBundle(): Promise<WidgetBundle> {
  const result = await build({
    entryPoints: [WIDGET_ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const code = Buffer.from(result.outputFiles[0]!.contents);
  return { code, gzip: gzipSync(code, { level: 9 }), etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"` };
}
