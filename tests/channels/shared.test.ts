// The pieces both chat platforms rely on: secrets at rest (and the development key file), signed
// values, at-most-once event ids, the Slack text conversions that keep a model's output from pinging a
// channel or forming links, and the throttle that bounds message edits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { throttled } from '../../src/channels/shared/throttle.js';
import { claimEvent, pruneProcessedEvents } from '../../src/channels/shared/processed-events.js';
import { decryptSecret, encryptSecret, signValue, verifySignedValue } from '../../src/channels/shared/secret-box.js';
import { plainText } from '../../src/channels/slack/events.js';
import { toMrkdwn } from '../../src/channels/slack/format.js';
import { setConfig } from '../../src/config.js';
import { testConfig, useTestApp } from '../support/harness.js';
import { randomId, rows } from './support.js';

useTestApp({ SECRET_KEY: 'shared-test-secret' });
afterEach(() => setConfig(testConfig({ SECRET_KEY: 'shared-test-secret' })));

describe('secret box', () => {
  it('encrypts with AES-256-GCM: fresh IV each time, bound to its purpose, tamper-evident', () => {
    const a = encryptSecret('xoxb-secret-token', 'slack-bot-token');
    const b = encryptSecret('xoxb-secret-token', 'slack-bot-token');
    expect(a).not.toBe(b);
    expect(a).not.toContain('xoxb');
    expect(decryptSecret(a, 'slack-bot-token')).toBe('xoxb-secret-token');
    expect(() => decryptSecret(a, 'another-purpose')).toThrow();
    const [v, iv, tag, body] = a.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] ^= 1;
    expect(() => decryptSecret([v, iv, tag, flipped.toString('base64url')].join('.'), 'slack-bot-token')).toThrow();
    // Another SECRET_KEY cannot read it.
    setConfig(testConfig({ SECRET_KEY: 'another-secret' }));
    expect(() => decryptSecret(a, 'slack-bot-token')).toThrow();
  });

  it('without SECRET_KEY, creates one private key file under DATA_DIR and keeps using it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-secret-'));
    setConfig(testConfig({ SECRET_KEY: '', DATA_DIR: dir }));
    const sealed = encryptSecret('token-1', 'p');
    const file = path.join(dir, 'channels-secret.key');
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    setConfig(testConfig({ SECRET_KEY: '', DATA_DIR: dir }));
    expect(decryptSecret(sealed, 'p')).toBe('token-1');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to store credentials in production without SECRET_KEY', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-secret-'));
    setConfig({ ...testConfig({ SECRET_KEY: '', DATA_DIR: dir }), NODE_ENV: 'production' });
    expect(() => encryptSecret('x', 'p')).toThrow(/SECRET_KEY must be set/);
    expect(fs.existsSync(path.join(dir, 'channels-secret.key'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs values that cannot be altered, reused for another purpose, or used after expiry', async () => {
    const v = signValue({ t: 'tenant' }, 'state', 60);
    expect(verifySignedValue(v, 'state')).toMatchObject({ t: 'tenant' });
    expect(verifySignedValue(v, 'other')).toBeNull();
    expect(verifySignedValue(v.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')), 'state')).toBeNull();
    expect(verifySignedValue(signValue({ t: 'x' }, 'state', -1), 'state')).toBeNull();
  });
});

describe('processed event ids', () => {
  it('lets exactly one of many concurrent deliveries through, and prunes old ids', async () => {
    const id = randomId('Ev', 12);
    const results = await Promise.all(Array.from({ length: 8 }, () => claimEvent('slack', id)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await claimEvent('teams', id)).toBe(true); // ids are per platform
    await rows(`UPDATE channels_processed_event SET created_at = NOW() - interval '10 days' WHERE event_id = :id`, { id });
    expect(await pruneProcessedEvents()).toBeGreaterThanOrEqual(2);
    expect(await claimEvent('slack', id)).toBe(true);
  });
});

describe('Slack text', () => {
  it('escapes what a model writes so it cannot ping a channel, mention someone or inject a link', () => {
    const out = toMrkdwn('Hi <!channel> and <@U123> <https://evil.example|click> & **bold** *it* [docs](https://example.com/a?b=1&c=2)');
    expect(out).not.toMatch(/<!channel>|<@U123>|<https:\/\/evil/);
    expect(out).toContain('&lt;!channel&gt;');
    expect(out).toContain('&amp;');
    expect(out).toContain('*bold*');
    expect(out).toContain('_it_');
    expect(out).toContain('<https://example.com/a?b=1&amp;c=2|docs>');
    expect(toMrkdwn('`<b>` and ```\n**x** <y>\n```')).toBe('`&lt;b&gt;` and ```\n**x** &lt;y&gt;\n```');
  });

  it('turns a Slack message into plain text for the model, without our mention', () => {
    expect(plainText('<@UBOT> what is <https://a.example|this> &amp; <@U2|ann>?', 'UBOT')).toBe('what is this & ann?');
  });
});

describe('throttle', () => {
  it('sends the latest value at most once per interval, one call at a time', async () => {
    const sent: { v: number; at: number }[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const t = throttled<number>(50, async (v) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 20));
      sent.push({ v, at: Date.now() });
      concurrent--;
    });
    const start = Date.now();
    for (let i = 1; i <= 30; i++) {
      t.push(i);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 120));
    await t.settle();
    const elapsed = Date.now() - start;
    expect(maxConcurrent).toBe(1);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    expect(sent.at(-1)!.v).toBe(30);
  });
});
