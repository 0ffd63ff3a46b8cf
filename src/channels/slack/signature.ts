// Slack request signing (v0): HMAC-SHA256 of "v0:{timestamp}:{raw body}" with the app's signing secret,
// sent as X-Slack-Signature "v0=<hex>". Requests older (or newer) than five minutes are refused, so a
// captured request cannot be replayed later; the comparison is constant-time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError, unauthorized } from '../../errors.js';

export const SLACK_TOLERANCE_SECONDS = 300;

export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
}

export function verifySlackRequest(
  secret: string | undefined,
  headers: { timestamp?: string | null; signature?: string | null },
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): void {
  if (!secret) throw new AppError('channel_not_configured', 'Slack is not configured on this server (SLACK_SIGNING_SECRET).', 503);
  const ts = headers.timestamp ?? '';
  if (!/^\d{1,12}$/.test(ts)) throw unauthorized('invalid_signature', 'The Slack request timestamp is missing or malformed.');
  if (Math.abs(nowSeconds - Number(ts)) > SLACK_TOLERANCE_SECONDS)
    throw unauthorized('stale_request', 'The Slack request is too old (or from the future) and was refused.');
  const given = Buffer.from(headers.signature ?? '');
  const expected = Buffer.from(slackSignature(secret, ts, rawBody));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw unauthorized('invalid_signature', 'The Slack request signature does not match.');
}
