// The Stripe client, built from config. STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET together enable paid
// billing; without them the free plan keeps working and paid routes answer billing_not_configured.
// STRIPE_API_URL points the client at another host (the tests' fake Stripe server).
import Stripe from 'stripe';
import { config } from '../config.js';
import { AppError } from '../errors.js';

export const billingNotConfigured = () =>
  new AppError(
    'billing_not_configured',
    'Paid plans and token purchases are not enabled on this server (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set). The free plan keeps working.',
    503,
  );

export function isBillingConfigured(): boolean {
  const c = config();
  return !!c.STRIPE_SECRET_KEY && !!c.STRIPE_WEBHOOK_SECRET;
}

let cached: { key: string; apiUrl?: string; client: Stripe } | undefined;

/** The configured client; throws billing_not_configured when billing is off. */
export function stripe(): Stripe {
  const c = config();
  if (!isBillingConfigured()) throw billingNotConfigured();
  const key = c.STRIPE_SECRET_KEY!;
  if (cached && cached.key === key && cached.apiUrl === c.STRIPE_API_URL) return cached.client;
  const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000, telemetry: false, appInfo: { name: 'FlowSpark' } };
  if (c.STRIPE_API_URL) {
    const u = new URL(c.STRIPE_API_URL);
    options.host = u.hostname;
    options.port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    options.protocol = u.protocol === 'https:' ? 'https' : 'http';
  }
  cached = { key, apiUrl: c.STRIPE_API_URL, client: new Stripe(key, options) };
  return cached.client;
}

/** A failed Stripe API call as a clear error for the user (the cause goes to the log). */
export function stripeFailure(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; statusCode?: number; message?: string };
  if (e?.type === 'StripeInvalidRequestError' && e.statusCode && e.statusCode < 500)
    return new AppError('payment_provider_rejected', `The payment provider refused the request: ${e.message ?? 'invalid request'}.`, 502, { cause: err });
  return new AppError('payment_provider_unavailable', 'The payment provider is not reachable right now. Nothing was charged; try again in a moment.', 502, { cause: err });
}
