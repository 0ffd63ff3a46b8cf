// Configuration: one validated reader of the environment; a bad value stops start-up with a sentence
// naming the variable, and every variable has a sensible default.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not-a-url'],
    ['DB_POOL_MAX', '0'],
    ['DB_STATEMENT_TIMEOUT_MS', '-5'],
    ['DATABASE_URL', 'mysql://db.example/flowspark'],
    ['REDIS_URL', 'localhost:6379'],
    ['LOG_LEVEL', 'loud'],
    ['COOKIE_SECURE', 'maybe'],
    ['NODE_ENV', 'staging'],
    ['LOGIN_MAX_FAILURES', '1.5'],
  ])('rejects %s=%j with a ConfigError that names the variable', (name, value) => {
    const err = configErrorOf({ [name]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('names every bad variable at once', () => {
    const err = configErrorOf({ PORT: 'abc', DB_POOL_MAX: '0' });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('DB_POOL_MAX');
  });

  it('has sensible defaults: embedded database under ./data, in-process cache, 30 s statements, 30-day sessions', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 3000,
      DATA_DIR: './data',
      DB_POOL_MAX: 10,
      DB_STATEMENT_TIMEOUT_MS: 30_000,
      DB_CONNECT_TIMEOUT_MS: 10_000,
      SESSION_TTL_DAYS: 30,
      COOKIE_SECURE: false,
      LOGIN_MAX_FAILURES: 5,
      LOGIN_WINDOW_SECONDS: 900,
      MAX_BODY_BYTES: 1_048_576,
      EMBEDDING_DIMENSIONS: 384,
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
  });

  it('treats empty optional values as unset and parses lists and booleans', () => {
    const c = loadConfig({ DATABASE_URL: '', REDIS_URL: '', DATABASE_REPLICA_URLS: 'postgres://r1/db, postgres://r2/db', COOKIE_SECURE: 'true', PORT: '8080', PUBLIC_URL: 'https://flowspark.example/' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.DATABASE_REPLICA_URLS).toEqual(['postgres://r1/db', 'postgres://r2/db']);
    expect(c.COOKIE_SECURE).toBe(true);
    expect(c.PORT).toBe(8080);
    expect(c.publicUrl).toBe('https://flowspark.example');
  });
});

describe('start-up with a bad value', () => {
  it('`tsx src/main.ts` with PORT=abc exits 1 with a sentence naming PORT', async () => {
    const { code, stderr, stdout } = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = execFile(
        path.join(repoRoot, 'node_modules/.bin/tsx'),
        ['src/main.ts'],
        { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: 'abc', LOG_LEVEL: 'silent' }, timeout: 55_000 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT is invalid \(got "abc"\)/);
    expect(stdout).not.toContain('listening');
  }, 60_000);
});
