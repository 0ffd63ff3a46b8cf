// The only module that reads process.env. Every variable is validated with zod and documented in
// README.md and .env.example; a bad value stops start-up with a sentence naming the variable.
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
const url = z.string().url();
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), url.optional());
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
/** A URL with one of these schemes (so REDIS_URL=localhost:6379 is refused rather than misread). */
const optionalUrlOf = (...schemes: string[]) =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    url.refine((v) => schemes.some((s) => v.startsWith(`${s}://`)), `must be a ${schemes.join('/')}:// URL`).optional(),
  );

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: optionalUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('./data'),

  DATABASE_URL: optionalUrlOf('postgres', 'postgresql'),
  DATABASE_REPLICA_URLS: list.optional(),
  DB_POOL_MAX: int(1, 200).default(10),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DB_CONNECT_TIMEOUT_MS: int(100, 120_000).default(10_000),
  EMBEDDED_DB_PORT: int(0, 65535).default(0),

  REDIS_URL: optionalUrlOf('redis', 'rediss'),

  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  CHAT_MODEL: optionalString,
  EMBEDDING_MODEL: optionalString,
  EMBEDDING_DIMENSIONS: int(16, 4096).default(384),
  AGENT_MAX_STEPS: int(1, 20).default(5),
  AGENT_HISTORY_TOKENS: int(256, 1_000_000).default(6000),
  MAX_MESSAGE_CHARS: int(1, 1_000_000).default(16_000),
  CHAT_TURNS_PER_MINUTE: int(1, 10_000).default(20),
  CHAT_CONCURRENT_TURNS: int(1, 100).default(2),
  MODEL_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  STREAM_COALESCE_MS: int(0, 100).default(15),
  RECALL_EMBEDDER: z.enum(['local', 'provider']).default('local'),
  /** Pause between the offline model's streamed chunks (demos, and tests that reload mid-reply). */
  OFFLINE_MODEL_DELAY_MS: int(0, 10_000).default(0),

  SESSION_TTL_DAYS: int(1, 365).default(30),
  COOKIE_SECURE: bool.default(false),
  LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  MAX_BODY_BYTES: int(1024, 1_073_741_824).default(1_048_576),
  MAX_UPLOAD_BYTES: int(1024, 1_073_741_824).default(26_214_400),
  SECRET_KEY: optionalString,

  ALLOWED_ORIGINS: list.optional(),
  ALLOWED_HOSTS: list.optional(),
  FLOWSPARK_API_KEY: optionalString,

  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_API_URL: optionalUrl,
  /** Stripe price ids: `standard:monthly=price_…,standard:yearly=price_…,tokens:1000000=price_…` (override billing_plan / billing_token_package columns). */
  STRIPE_PRICE_IDS: optionalString,

  SLACK_SIGNING_SECRET: optionalString,
  SLACK_CLIENT_ID: optionalString,
  SLACK_CLIENT_SECRET: optionalString,
  SLACK_API_URL: optionalUrl,
  TEAMS_APP_ID: optionalString,
  TEAMS_APP_PASSWORD: optionalString,
  TEAMS_OPENID_METADATA_URL: optionalUrl,
  /** Lifetime of the web widget's tokens (POST /api/widget/token). */
  WIDGET_TOKEN_TTL_SECONDS: int(60, 86_400).default(3600),
  TEAMS_LOGIN_URL: optionalUrl,

  RUN_WORKERS: bool.default(true),
  DOCUMENT_RENDER_THREADS: int(0, 64).optional(), // worker threads rendering documents; unset: 1 on 2 CPUs, 2 from 3 CPUs; 0: main thread
  TRUST_PROXY: bool.default(false),
});

export type Config = z.infer<typeof configSchema> & { dataDir: string; publicUrl: string };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      return `${name} is invalid (got ${JSON.stringify(env[name] ?? '')}): ${i.message}`;
    });
    throw new ConfigError(`Configuration error: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  return {
    ...c,
    dataDir: path.resolve(c.DATA_DIR),
    publicUrl: (c.PUBLIC_URL ?? `http://${c.HOST === '0.0.0.0' ? '127.0.0.1' : c.HOST}:${c.PORT}`).replace(/\/$/, ''),
  };
}

/** For entry points: the configuration, or exit 1 printing the sentence that names the bad variable. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

let current: Config | undefined;

/** The process configuration, read once. Tests may call `setConfig` to override it. */
export function config(): Config {
  current ??= loadConfig();
  return current;
}

export function setConfig(next: Config): void {
  current = next;
}
