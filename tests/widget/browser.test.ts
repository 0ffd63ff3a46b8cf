// The widget in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core), against
// a started service with the offline model: sign up on the demo page and chat, see the streamed reply
// and tool progress, approve a tool, download a generated file, reload mid-reply and see the rest, and a
// model reply carrying <img onerror>/<script> that must not execute — on a host page of another origin
// with hostile CSS, a widget token, and the team's branding. Skipped (with a message) when Chromium is
// not installed: scripts/setup-chromium.sh installs it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import '../../src/features.js';
import { config, setConfig, type Config } from '../../src/config.js';
import { registerRoutes } from '../../src/http/app.js';
import { requireAuth } from '../../src/http/middleware.js';
import { router } from '../../src/http/openapi.js';
import { startServer, type Running } from '../../src/server.js';
import { allTools, registerTools } from '../../src/tools/index.js';
import { defineTool } from '../../src/tools/registry.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai-server.js';
import { testConfig } from '../support/harness.js';
import { rows, STRONG_PASSWORD, widgetTeam } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[widget browser tests] SKIPPED: ${CHROMIUM} is missing. Install Debian's chromium with scripts/setup-chromium.sh (as root).`);

// ---------------------------------------------------------------------------------------------------------
// Test-only tools and a file endpoint (registered before the server builds its app). The download is
// generic: any tool output with a downloadUrl gets a link, so a stand-in for a document tool suffices.

const REPORT = 'Quarterly numbers: all green.\n';
registerRoutes(
  router()
    .use('/api/widget-test/*', requireAuth)
    .get('/api/widget-test/report.txt', (c) => {
      c.header('Content-Disposition', 'attachment; filename="widget-test-report.txt"');
      return c.text(REPORT);
    }),
);

// The real document tool when the documents feature provides it; otherwise a stand-in with a downloadUrl.
const hasDocumentTool = allTools().some((t) => t.name === 'generate_document');
if (!hasDocumentTool)
  registerTools(
    defineTool({
      name: 'make_test_report',
      title: 'Make a test report',
      description: 'Test-only: produces a file to download.',
      inputSchema: z.object({}),
      outputSchema: z.object({ downloadUrl: z.string(), filename: z.string() }),
      minRole: 'viewer',
      readOnly: true,
      destructive: false,
      idempotent: true,
      needsApproval: false,
      intents: { patterns: [/\bzebra report\b/i], extract: () => ({}), describe: (o: { filename: string }) => `Your report is ready: ${o.filename}.` },
      execute: async () => ({ downloadUrl: '/api/widget-test/report.txt', filename: 'widget-test-report.txt' }),
    }),
  );
const PAYLOAD_TEXT = `Here it is: <img src=x onerror="window.__xss='describe-img'"> and <script>window.__xss='describe-script'</script> and [click me](javascript:window.__xss='describe-link').`;
registerTools(
  defineTool({
    name: 'show_payload',
    title: 'Show the payload',
    description: 'Test-only: returns hostile HTML in every field the widget displays.',
    inputSchema: z.object({}),
    outputSchema: z.any(),
    minRole: 'viewer',
    readOnly: true,
    destructive: false,
    idempotent: true,
    needsApproval: false,
    intents: { patterns: [/\bshow me the payload\b/i], extract: () => ({}), describe: () => PAYLOAD_TEXT },
    execute: async () => ({
      sources: [
        { title: `<img src=x onerror="window.__xss='citation-title'">Evil source`, url: `javascript:window.__xss='citation-link'` },
        { title: 'Good source', url: 'https://example.com/doc' },
      ],
      downloadUrl: `javascript:window.__xss='download'`,
      filename: `<script>window.__xss='filename'</script>.txt`,
    }),
  }),
);

// ---------------------------------------------------------------------------------------------------------
// A host page on another origin, with CSS that would wreck an unisolated widget.

const HOSTILE_CSS = `* { color: #ff0000 !important; font-family: "Comic Sans MS", cursive !important; font-size: 30px !important; }
button { display: none !important; background: #00ff00 !important; }
div, section, textarea { border: 6px dashed lime !important; padding: 40px !important; }`;

const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function startHost(widgetJs: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const data = [...url.searchParams].map(([k, v]) => ` data-${k.replace(/[^a-z]/g, '')}="${attr(v)}"`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host shop</title><style>${HOSTILE_CSS}</style></head>
<body><h1>Host shop</h1><p>Products and prices.</p><button>Host button</button>
<script src="${attr(widgetJs)}"${data} async></script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------------------

let server: Running;
let host: Server;
let hostOrigin: string;
let browser: Browser;
let baseConfig: Config;
const shotDir = mkdtempSync(path.join(os.tmpdir(), 'widget-shots-'));

const widget = (page: Page, css: string): Locator => page.locator(`flowspark-widget ${css}`);
const activeId = (page: Page) => page.evaluate(() => {
  const el = document.querySelector('flowspark-widget')?.shadowRoot?.activeElement as HTMLElement | null | undefined;
  return el ? el.id || el.className || el.tagName.toLowerCase() : null;
});
const assistantWith = (page: Page, text: string) => widget(page, '.fs-assistant').filter({ hasText: text });

async function sendMessage(page: Page, text: string) {
  const input = widget(page, '#fs-input');
  await input.fill(text);
  await input.press('Enter');
}

async function ensureOpen(page: Page) {
  const panel = widget(page, '.fs-panel');
  if (!(await panel.isVisible())) await widget(page, '.fs-launcher').click();
  await panel.waitFor({ state: 'visible' });
}

describe.skipIf(!hasChromium)('the widget in Chromium', () => {
  beforeAll(async () => {
    baseConfig = testConfig({ PORT: '0' });
    server = await startServer(baseConfig);
    baseConfig = { ...baseConfig, publicUrl: server.url }; // PORT=0: links the service builds must name the real port
    setConfig(baseConfig);
    host = await startHost(`${server.url}/widget.js`);
    hostOrigin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  }, 120_000);

  afterAll(async () => {
    setConfig(baseConfig);
    await browser?.close();
    await new Promise((r) => host?.close(r));
    await server?.close();
  });

  describe('on the demo page, signed in with a session', () => {
    let page: Page;
    let email: string;

    beforeAll(async () => {
      page = await browser.newPage({ viewport: { width: 1200, height: 800 }, acceptDownloads: true });
    });
    afterAll(async () => page?.close());

    it('a newcomer signs up and chats at once: streamed reply with tool progress, then approves a tool', async () => {
      email = `ada-${crypto.randomUUID().slice(0, 8)}@example.test`;
      await page.goto(`${server.url}/`);
      await page.fill('#signup input[name=tenantName]', 'Northwind Trading');
      await page.fill('#signup input[name=firstName]', 'Ada');
      await page.fill('#signup input[name=email]', email);
      await page.fill('#signup input[name=password]', STRONG_PASSWORD);
      await page.click('#signup button[type=submit]');

      await widget(page, '.fs-panel').waitFor({ state: 'visible' });
      await expect.poll(() => activeId(page)).toBe('fs-input');
      expect(await widget(page, '.fs-title').textContent()).toBe('Northwind Trading');
      expect(await widget(page, '.fs-launcher').getAttribute('aria-expanded')).toBe('true');

      await sendMessage(page, 'remember that my favourite colour is blue');
      await widget(page, '.fs-user').filter({ hasText: 'remember that my favourite colour is blue' }).waitFor();
      await widget(page, '.fs-tool[data-tool="remember_preference"][data-state="output-available"]').waitFor();
      await assistantWith(page, "I'll remember your colour: blue.").waitFor();
      expect(await widget(page, '.fs-log').getAttribute('role')).toBe('log');

      const [conversation] = await rows<{ id: string; channel: string; tenant_id: string }>(
        `SELECT c.id, c.channel, c.tenant_id FROM agents_conversation c JOIN core_user u ON u.id = c.user_id WHERE u.email = :email`,
        { email },
      );
      expect(conversation?.channel).toBe('widget');

      await sendMessage(page, 'forget my colour preference');
      const approve = page.getByRole('button', { name: 'Approve: Forget preference' });
      await approve.waitFor();
      await expect.poll(() => widget(page, '.fs-status, .fs-sr-only[role=status]').allTextContents()).toContain('The assistant needs your approval to continue.');
      await page.screenshot({ path: path.join(shotDir, 'widget.png') });
      expect((await rows('SELECT key FROM agents_preference p JOIN core_user u ON u.id = p.user_id WHERE u.email = :email', { email })).length).toBe(1);

      await approve.click();
      await assistantWith(page, "I've forgotten your colour preference.").waitFor();
      await expect.poll(async () => (await rows('SELECT key FROM agents_preference p JOIN core_user u ON u.id = p.user_id WHERE u.email = :email', { email })).length).toBe(0);
      expect(await page.getByRole('button', { name: 'Approve: Forget preference' }).count()).toBe(0);
    }, 60_000);

    it('is keyboard usable: Escape closes and returns focus to the launcher; the conversation list opens a conversation', async () => {
      await widget(page, '#fs-input').focus();
      await page.keyboard.press('Escape');
      await widget(page, '.fs-panel').waitFor({ state: 'hidden' });
      expect(await activeId(page)).toBe('fs-launcher');
      await page.keyboard.press('Enter');
      await widget(page, '.fs-panel').waitFor({ state: 'visible' });
      await expect.poll(() => activeId(page)).toBe('fs-input');

      await page.getByRole('button', { name: 'New conversation' }).click();
      await widget(page, '.fs-empty').waitFor();
      await page.getByRole('button', { name: 'Your conversations' }).click();
      const item = widget(page, '.fs-history li button').filter({ hasText: 'remember that my favourite colour is blue' });
      await item.waitFor();
      await expect.poll(() => activeId(page)).toBe('button'); // the first conversation has focus
      await item.click();
      await assistantWith(page, "I've forgotten your colour preference.").waitFor();
    }, 30_000);

    it('downloads a generated document through the token-authenticated link', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      if (hasDocumentTool) {
        await sendMessage(page, 'write a report about zebra migrations as a pdf');
        const link = widget(page, '.fs-tool[data-tool="generate_document"] a.fs-download');
        await link.waitFor({ timeout: 20_000 });
        expect(await link.getAttribute('href')).toMatch(new RegExp(`^${server.url}/api/documents/[0-9a-f-]{36}/download$`));
        const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
        expect(download.suggestedFilename()).toMatch(/\.pdf$/);
        expect(readFileSync((await download.path())!).subarray(0, 5).toString()).toBe('%PDF-');
      } else {
        await sendMessage(page, 'make the zebra report');
        const link = widget(page, 'a.fs-download').filter({ hasText: 'widget-test-report.txt' });
        await link.waitFor();
        const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
        expect(download.suggestedFilename()).toBe('widget-test-report.txt');
        expect(readFileSync((await download.path())!, 'utf8')).toBe(REPORT);
      }
    }, 30_000);

    it('survives a reload mid-reply: the rest of the turn streams in, nothing doubled', async () => {
      await page.getByRole('button', { name: 'New conversation' }).click();
      await interruptMidReply(page, { email }, 'hello there', () => page.reload());
    }, 60_000);

    it('survives a dropped connection mid-reply: it reconnects and replays from where it stopped', async () => {
      // Track the service's WebSocket connections so the test can cut them like a flaky network would.
      const upgraded = new Set<Duplex>();
      const track = (_req: unknown, socket: Duplex) => upgraded.add(socket);
      server.server.on('upgrade', track);
      try {
        await page.reload(); // a fresh socket, opened while tracking
        await widget(page, '.fs-panel').waitFor({ state: 'visible' });
        await expect.poll(() => upgraded.size).toBeGreaterThan(0);
        await page.getByRole('button', { name: 'New conversation' }).click();
        await interruptMidReply(page, { email }, 'hello once more', async () => {
          for (const socket of upgraded) socket.destroy();
        });
      } finally {
        server.server.off('upgrade', track);
      }
    }, 60_000);
  });

  describe('on another site, with a widget token', () => {
    let fake: FakeOpenAI;
    beforeAll(async () => {
      fake = await startFakeOpenAI({
        script: () => ({ text: `Sure. <img src=x onerror="window.__xss='model-img'"> <script>window.__xss='model-script'</script> **bold** [bad](javascript:window.__xss='model-link') [good](https://example.com/ok)`, delayMs: 5 }),
      });
    });
    afterAll(async () => {
      setConfig({ ...config(), OPENAI_BASE_URL: undefined });
      await fake?.close();
    });

    it('is isolated from the host page’s CSS, in the team’s branding, and never executes HTML from a reply or a tool', async () => {
      const team = await widgetTeam(server.url, { name: 'Violet Shop', origins: [hostOrigin] });
      await rows(`UPDATE core_tenant SET primary_color = '#7B1FA2' WHERE id = :t`, { t: team.tenant.id });
      const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
      try {
        await page.goto(`${hostOrigin}/?tenant=${team.tenant.slug}&token=${team.token}`);
        const launcher = widget(page, '.fs-launcher');
        await launcher.waitFor({ state: 'visible' });
        await expect.poll(() => launcher.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(123, 31, 162)');
        expect(await launcher.evaluate((el) => getComputedStyle(el).fontFamily)).not.toContain('Comic');
        await launcher.click();
        await widget(page, '.fs-panel').waitFor({ state: 'visible' });
        expect(await widget(page, '.fs-title').evaluate((el) => [getComputedStyle(el).fontSize, getComputedStyle(el).color])).toEqual(['16px', 'rgb(255, 255, 255)']);

        // A tool whose output and description are hostile (offline model).
        await sendMessage(page, 'show me the payload');
        await assistantWith(page, 'Here it is:').waitFor();
        await widget(page, '.fs-tool[data-tool="show_payload"][data-state="output-available"]').waitFor();
        // Let that turn finish (stored and charged) before the next message, or the server answers turn_in_progress.
        await widget(page, '.fs-assistant:not([aria-busy])').last().waitFor();
        // A model reply with raw HTML (an OpenAI-compatible server).
        setConfig({ ...config(), OPENAI_BASE_URL: fake.url });
        await sendMessage(page, 'say something');
        await assistantWith(page, 'Sure.').waitFor();
        await widget(page, '.fs-assistant:not([aria-busy])').last().waitFor();
        await page.waitForTimeout(500); // an <img onerror> would have fired by now
        await page.screenshot({ path: path.join(shotDir, 'widget-host.png') });

        expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
        const log = widget(page, '.fs-log');
        expect(await log.locator('img, script, iframe, object, embed, [onerror], [onclick]').count()).toBe(0);
        const hrefs = await log.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('rel')]));
        expect(hrefs.length).toBeGreaterThan(0);
        for (const [href, rel] of hrefs) {
          expect(href).toMatch(/^https?:\/\//);
          expect(rel).toContain('noopener');
        }
        const text = await log.innerText();
        expect(text).toContain(`<img src=x onerror="window.__xss='describe-img'">`);
        expect(text).toContain(`<script>window.__xss='model-script'</script>`);
        expect(text).toContain('Evil source'); // the citation title, as text
        expect(await log.locator('strong').filter({ hasText: 'bold' }).count()).toBe(1);
        expect(await log.locator('a[href="https://example.com/doc"]').count()).toBe(1);
        expect(await log.locator('a.fs-download').count()).toBe(0); // a javascript: download URL is dropped

        const [conversation] = await rows<{ channel: string }>(`SELECT channel FROM agents_conversation WHERE user_id = :u`, { u: team.userId });
        expect(conversation?.channel).toBe('widget');
      } finally {
        setConfig({ ...config(), OPENAI_BASE_URL: undefined });
        await page.close();
      }
    }, 60_000);

    it('is refused on an origin the team does not allow', async () => {
      const team = await widgetTeam(server.url, { origins: [hostOrigin] });
      const page = await browser.newPage();
      try {
        const other = hostOrigin.replace('127.0.0.1', 'localhost');
        await page.goto(`${other}/?tenant=${team.tenant.slug}&token=${team.token}&open=true`);
        const notice = widget(page, '.fs-notice');
        await notice.waitFor({ state: 'visible' });
        expect(await notice.textContent()).toContain(`may not be used from ${other}`);
        expect(await widget(page, '#fs-input').isDisabled()).toBe(true);
      } finally {
        await page.close();
      }
    }, 30_000);

    it('falls back to HTTP streaming (and re-attaches after a reload), and fits a phone-sized screen', async () => {
      const team = await widgetTeam(server.url, { origins: [hostOrigin] });
      const page = await browser.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
      try {
        await page.goto(`${hostOrigin}/?tenant=${team.tenant.slug}&token=${team.token}&transport=http`);
        await widget(page, '.fs-launcher').click();
        const panel = widget(page, '.fs-panel');
        await panel.waitFor({ state: 'visible' });
        expect(await panel.boundingBox()).toEqual({ x: 0, y: 0, width: 375, height: 667 });
        expect(await widget(page, '.fs-launcher').isVisible()).toBe(false);
        await sendMessage(page, 'remember that my favourite food is pizza');
        await assistantWith(page, "I'll remember your food: pizza.").waitFor();
        await page.screenshot({ path: path.join(shotDir, 'widget-phone.png') });
        const [pref] = await rows<{ value: unknown }>(`SELECT value FROM agents_preference WHERE user_id = :u`, { u: team.userId });
        expect(pref?.value).toBe('pizza');

        // Reloading mid-reply over HTTP re-attaches with GET /api/chat/:id/stream.
        await page.getByRole('button', { name: 'New conversation' }).click();
        await interruptMidReply(page, { userId: team.userId }, 'hello over http', () => page.reload());
      } finally {
        await page.close();
      }
    }, 60_000);
  });

  it('keeps a screenshot of the widget (docs/widget.png with UPDATE_WIDGET_SCREENSHOT=1)', () => {
    const shot = readFileSync(path.join(shotDir, 'widget.png'));
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
    console.log(`[widget] screenshots in ${shotDir}`);
    if (process.env.UPDATE_WIDGET_SCREENSHOT === '1') writeFileSync(path.resolve('docs/widget.png'), shot);
  });
});

const normalise = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * Send `text` (the offline model's long introduction, slowed down), `interrupt` once part of the reply is
 * on screen and before the service has stored it, then check the widget ends up showing exactly the
 * stored reply, once.
 */
async function interruptMidReply(page: Page, who: { email?: string; userId?: string }, text: string, interrupt: () => Promise<unknown>) {
  setConfig({ ...config(), OFFLINE_MODEL_DELAY_MS: 40 });
  try {
    await sendMessage(page, text);
    const streaming = widget(page, '.fs-assistant[aria-busy="true"] .fs-text');
    await expect.poll(async () => ((await streaming.count()) ? ((await streaming.first().textContent())?.length ?? 0) : 0), { timeout: 15_000 }).toBeGreaterThan(40);
    const stored = () =>
      rows<{ text: string; status: string }>(
        `SELECT i.data->'metadata'->>'status' AS status, (SELECT string_agg(p->>'text', '') FROM jsonb_array_elements(i.data->'parts') p WHERE p->>'type' = 'text') AS text
           FROM agents_interaction i JOIN agents_conversation c ON c.id = i.conversation_id JOIN core_user u ON u.id = c.user_id
          WHERE (u.email = :email OR u.id = :userId) AND i.interaction_type = 'message' AND i.data->>'role' = 'assistant' AND c.title = :text`,
        { email: who.email ?? '', userId: who.userId ?? '00000000-0000-0000-0000-000000000000', text },
      );
    expect(await stored()).toEqual([]); // still being written when it is interrupted
    await interrupt();
    await widget(page, '.fs-panel').waitFor({ state: 'visible' });
    await widget(page, '.fs-user').filter({ hasText: text }).waitFor();
    await expect.poll(async () => (await stored())[0]?.status, { timeout: 30_000 }).toBe('complete');
    const final = (await stored())[0]!.text;
    const shown = widget(page, '.fs-assistant .fs-text').last();
    await expect.poll(async () => normalise((await shown.innerText()) ?? ''), { timeout: 10_000 }).toBe(normalise(final.replace(/^\s*[-*]\s+/gm, '')));
    expect(await widget(page, '.fs-assistant').count()).toBe(1);
  } finally {
    setConfig({ ...config(), OFFLINE_MODEL_DELAY_MS: 0 });
  }
}
