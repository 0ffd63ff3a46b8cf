// One structured logger (pino). Child loggers carry request ids and tenant ids.
import { pino } from 'pino';

const level = process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' || process.env.VITEST ? 'silent' : 'info');

export const log = pino({
  level,
  base: { service: 'flowspark' },
  redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.apiKey'],
});

export type Logger = typeof log;
