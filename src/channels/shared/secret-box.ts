// Secrets at rest (Slack bot tokens) and signed values (OAuth state), keyed from one master secret.
// The master secret is SECRET_KEY. Without it (development, tests) a random 32-byte key is created once
// in DATA_DIR/channels-secret.key (mode 0600) and reused, so tokens survive restarts of a single
// instance; production refuses to run without SECRET_KEY, since every instance must share the key and a
// lost key makes every stored token unreadable. Each use gets its own key through HKDF-SHA256.
// Ciphertexts are AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" in base64url, the purpose bound as AAD.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../../config.js';
import { AppError } from '../../errors.js';
import { log } from '../../log.js';

const KEY_FILE = 'channels-secret.key';
let cached: { source: string; master: Buffer } | undefined;

function masterKey(): Buffer {
  const c = config();
  const source = c.SECRET_KEY ? `env:${c.SECRET_KEY}` : `file:${c.dataDir}`;
  if (cached?.source === source) return cached.master;
  let master: Buffer;
  if (c.SECRET_KEY) master = Buffer.from(c.SECRET_KEY, 'utf8');
  else {
    if (c.NODE_ENV === 'production')
      throw new AppError('secret_key_missing', 'SECRET_KEY must be set in production to store channel credentials.', 503);
    const file = path.join(c.dataDir, KEY_FILE);
    try {
      master = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    } catch {
      fs.mkdirSync(c.dataDir, { recursive: true });
      const fresh = randomBytes(32).toString('base64');
      try {
        fs.writeFileSync(file, fresh + '\n', { mode: 0o600, flag: 'wx' });
        log.warn({ file }, 'SECRET_KEY is not set: created a local key for channel credentials (set SECRET_KEY in production)');
      } catch {
        /* another process created it first: read theirs */
      }
      master = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    }
    if (master.length < 32) throw new AppError('secret_key_invalid', `${file} does not hold a 32-byte key.`, 500);
  }
  cached = { source, master };
  return master;
}

const subkey = (purpose: string) => Buffer.from(hkdfSync('sha256', masterKey(), 'flowspark-channels', purpose, 32));

/** Encrypt `plaintext` for `purpose` (e.g. "slack-bot-token"); decrypt with the same purpose. */
export function encryptSecret(plaintext: string, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', subkey(`encrypt:${purpose}`), iv);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function decryptSecret(sealed: string, purpose: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised ciphertext format');
  const decipher = createDecipheriv('aes-256-gcm', subkey(`encrypt:${purpose}`), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** A tamper-proof, expiring token carrying `data` (JSON), e.g. the OAuth `state`. Not secret: signed only. */
export function signValue(data: Record<string, unknown>, purpose: string, ttlSeconds: number): string {
  const payload = Buffer.from(JSON.stringify({ ...data, exp: Math.floor(Date.now() / 1000) + ttlSeconds })).toString('base64url');
  return `${payload}.${mac(payload, purpose)}`;
}

/** The data of a value made by `signValue`, or null when it is forged, for another purpose or expired. */
export function verifySignedValue<T extends Record<string, unknown>>(value: string, purpose: string): (T & { exp: number }) | null {
  const [payload, sig] = value.split('.');
  if (!payload || !sig) return null;
  const expected = Buffer.from(mac(payload, purpose));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T & { exp: number };
    return typeof data.exp === 'number' && data.exp >= Date.now() / 1000 ? data : null;
  } catch {
    return null;
  }
}

const mac = (payload: string, purpose: string) => createHmac('sha256', subkey(`sign:${purpose}`)).update(payload).digest('base64url');
