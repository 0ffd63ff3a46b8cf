// The demo page served at `/` by `npm start`: a newcomer signs up or signs in and chats at once in the
// widget. Static files from ./public, read once; a strict CSP (scripts from this origin only).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { registerRoutes } from '../../http/app.js';
import type { AppEnv } from '../../http/env.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const files = {
  html: readFileSync(path.join(dir, 'index.html'), 'utf8'),
  js: readFileSync(path.join(dir, 'demo.js'), 'utf8'),
  css: readFileSync(path.join(dir, 'demo.css'), 'utf8'),
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data: blob:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const demoRoutes = new Hono<AppEnv>()
  .get('/', (c) => {
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', 'no-cache');
    return c.html(files.html);
  })
  .get('/demo.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(files.js);
  })
  .get('/demo.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(files.css);
  });

registerRoutes(demoRoutes);
