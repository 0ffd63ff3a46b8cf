// Bot Framework authentication of incoming activities (the Bot Connector "channel → bot" token):
//  - Authorization: Bearer <JWT>, RS256/384/512 only;
//  - signing keys from the OpenID metadata document (TEAMS_OPENID_METADATA_URL, default
//    https://login.botframework.com/v1/.well-known/openidconfiguration) → its jwks_uri; a key that lists
//    `endorsements` must endorse the activity's channel (msteams);
//  - iss https://api.botframework.com, aud = our app id (TEAMS_APP_ID), exp/nbf with 5 minutes of clock
//    skew (as the Bot Framework SDKs allow);
//  - the token's serviceurl claim must equal the activity's serviceUrl, so a reply only ever goes to the
//    connector Microsoft named.
// jose verifies the signature and claims; the metadata and keys are cached (keys refreshed daily, or
// when an unknown key id shows up, at most once a minute).
import { errors as joseErrors, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { config } from '../../config.js';
import { AppError, unauthorized } from '../../errors.js';
import { log } from '../../log.js';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
export const DEFAULT_OPENID_METADATA_URL = 'https://login.botframework.com/v1/.well-known/openidconfiguration';
const ALGORITHMS = ['RS256', 'RS384', 'RS512'];
const CLOCK_TOLERANCE_SECONDS = 300;
const KEYS_TTL_MS = 24 * 3_600_000;
const REFRESH_FLOOR_MS = 60_000;

type EndorsedJwk = JWK & { endorsements?: string[] };
interface KeyCache {
  metadataUrl: string;
  keys: EndorsedJwk[];
  fetchedAt: number;
}
let keyCache: KeyCache | undefined;
let inflight: Promise<KeyCache> | undefined;

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function loadKeys(metadataUrl: string): Promise<KeyCache> {
  const metadata = (await fetchJson(metadataUrl)) as { jwks_uri?: string };
  if (typeof metadata?.jwks_uri !== 'string') throw new Error('OpenID metadata has no jwks_uri');
  const jwks = (await fetchJson(new URL(metadata.jwks_uri, metadataUrl).toString())) as { keys?: EndorsedJwk[] };
  if (!Array.isArray(jwks?.keys)) throw new Error('JWKS has no keys');
  return { metadataUrl, keys: jwks.keys, fetchedAt: Date.now() };
}

async function signingKeys(force: boolean): Promise<EndorsedJwk[]> {
  const metadataUrl = config().TEAMS_OPENID_METADATA_URL ?? DEFAULT_OPENID_METADATA_URL;
  const fresh = keyCache?.metadataUrl === metadataUrl && Date.now() - keyCache.fetchedAt < (force ? REFRESH_FLOOR_MS : KEYS_TTL_MS);
  if (fresh) return keyCache!.keys;
  inflight ??= loadKeys(metadataUrl).finally(() => (inflight = undefined));
  try {
    keyCache = await inflight;
  } catch (err) {
    log.warn({ err: String(err) }, 'Bot Framework signing keys could not be fetched');
    if (keyCache?.metadataUrl === metadataUrl) return keyCache.keys; // keep validating with what we had
    throw new AppError('auth_unavailable', 'The Bot Framework signing keys could not be fetched.', 503, { cause: err });
  }
  return keyCache.keys;
}

/** The verified claims of an activity's bearer token, or a 401. */
export async function verifyBotFrameworkRequest(authorization: string | undefined, activity: { serviceUrl?: string; channelId?: string }): Promise<JWTPayload> {
  const appId = config().TEAMS_APP_ID;
  if (!appId) throw new AppError('channel_not_configured', 'Microsoft Teams is not configured on this server (TEAMS_APP_ID).', 503);
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw unauthorized('invalid_token', 'A Bot Framework bearer token is required.');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header) => {
        if (!header.kid) throw new joseErrors.JWKSNoMatchingKey();
        let jwk = (await signingKeys(false)).find((k) => k.kid === header.kid);
        jwk ??= (await signingKeys(true)).find((k) => k.kid === header.kid);
        if (!jwk) throw new joseErrors.JWKSNoMatchingKey();
        if (jwk.endorsements && activity.channelId && !jwk.endorsements.includes(activity.channelId))
          throw new joseErrors.JWKSNoMatchingKey('the signing key does not endorse this channel');
        return importJWK(jwk, header.alg);
      },
      { issuer: BOT_FRAMEWORK_ISSUER, audience: appId, algorithms: ALGORITHMS, clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp'] },
    ));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw unauthorized('invalid_token', `The Bot Framework token was refused (${err instanceof joseErrors.JOSEError ? err.code : 'invalid'}).`);
  }
  const claimed = (payload.serviceurl ?? payload.serviceUrl) as string | undefined;
  if (!claimed || !activity.serviceUrl || normaliseUrl(claimed) !== normaliseUrl(activity.serviceUrl))
    throw unauthorized('invalid_token', 'The token’s serviceUrl does not match the activity.');
  return payload;
}

const normaliseUrl = (u: string) => u.trim().replace(/\/+$/, '').toLowerCase();

/** Tests: forget cached keys (a new fake server, a rotated key). */
export function resetBotFrameworkKeys() {
  keyCache = undefined;
}
