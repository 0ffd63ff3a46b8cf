// Per-tenant Slack installation (OAuth v2). An admin starts it (GET /api/channels/slack/install): we
// redirect to Slack's authorize page with a signed, expiring `state` naming the tenant and the admin,
// bound to the admin's browser by a nonce cookie (so nobody can make someone else's browser finish an
// install into their tenant). Slack sends the browser back to the callback with a code, which we exchange
// for the workspace's bot token; the token is stored AES-256-GCM encrypted. A workspace belongs to one
// tenant: installing it into a second tenant is refused.
import { randomBytes } from 'node:crypto';
import { auditAs, recordAudit } from '../../analytics/audit.js';
import type { AuthContext } from '../../auth/context.js';
import { authorize } from '../../auth/policies.js';
import { cache } from '../../cache/index.js';
import { config } from '../../config.js';
import { db } from '../../db/index.js';
import { User } from '../../db/models/index.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../errors.js';
import { channelModels, type SlackInstallation } from '../shared/models.js';
import { manageChannels } from '../shared/policy.js';
import { decryptSecret, encryptSecret, signValue, verifySignedValue } from '../shared/secret-box.js';
import { oauthV2Access, slackAuthorizeUrl } from './api.js';

/** What the bot needs: read mentions and DMs, write replies, read users' emails to map them. */
export const SLACK_BOT_SCOPES = ['app_mentions:read', 'chat:write', 'im:history', 'users:read', 'users:read.email'];
export const OAUTH_COOKIE = 'fs_slack_oauth';
const STATE_PURPOSE = 'slack-oauth-state';
const TOKEN_PURPOSE = 'slack-bot-token';
const STATE_TTL_SECONDS = 600;

export const presentInstallation = (i: SlackInstallation) => ({
  id: i.id,
  teamId: i.teamId,
  teamName: i.teamName,
  botUserId: i.botUserId,
  scopes: i.scopes,
  installedById: i.installedById,
  createdAt: i.createdAt,
  updatedAt: i.updatedAt,
});

export const slackRedirectUri = () => `${config().publicUrl}/api/channels/slack/oauth/callback`;

function assertOAuthConfigured() {
  const c = config();
  if (!c.SLACK_CLIENT_ID || !c.SLACK_CLIENT_SECRET || !c.SLACK_SIGNING_SECRET)
    throw new AppError('channel_not_configured', 'Slack is not configured on this server (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET).', 503);
}

/** The Slack authorize URL for this admin, and the nonce to keep in their browser's cookie. */
export function startSlackInstall(auth: AuthContext): { url: string; nonce: string; maxAgeSeconds: number } {
  authorize(manageChannels(auth), 'Only an admin can install Slack for the team.');
  assertOAuthConfigured();
  const nonce = randomBytes(16).toString('base64url');
  const state = signValue({ t: auth.tenantId, u: auth.userId, n: nonce }, STATE_PURPOSE, STATE_TTL_SECONDS);
  const url = new URL(slackAuthorizeUrl());
  url.searchParams.set('client_id', config().SLACK_CLIENT_ID!);
  url.searchParams.set('scope', SLACK_BOT_SCOPES.join(','));
  url.searchParams.set('redirect_uri', slackRedirectUri());
  url.searchParams.set('state', state);
  return { url: url.toString(), nonce, maxAgeSeconds: STATE_TTL_SECONDS };
}

/** Finish the install: check the state and its browser, exchange the code, store the installation. */
export async function completeSlackInstall(input: { code?: string; state?: string; error?: string; cookieNonce?: string }, meta: { ip?: string; userAgent?: string } = {}) {
  assertOAuthConfigured();
  if (input.error) throw badRequest('slack_install_cancelled', `Slack did not install the app (${input.error.slice(0, 100)}).`);
  if (!input.code || !input.state) throw badRequest('invalid_oauth_callback', 'The Slack callback is missing its code or state.');
  const state = verifySignedValue<{ t: string; u: string; n: string }>(input.state, STATE_PURPOSE);
  if (!state) throw badRequest('invalid_oauth_state', 'This Slack install link is invalid or has expired. Start the install again.');
  if (!input.cookieNonce || input.cookieNonce !== state.n)
    throw forbidden('oauth_state_mismatch', 'This Slack install was started in another browser. Start it again from FlowSpark.');
  if (!(await cache().setIfAbsent(`slack-oauth-state:${state.n}`, '1', STATE_TTL_SECONDS)))
    throw badRequest('invalid_oauth_state', 'This Slack install link was already used. Start the install again.');

  const user = await User.findOne({ where: { id: state.u, tenantId: state.t } });
  if (!user || user.isActive === false) throw forbidden('forbidden', 'The admin who started this install no longer has access.');
  const auth: AuthContext = { tenantId: state.t, userId: user.id, role: user.role, email: user.email, ...meta };
  authorize(manageChannels(auth), 'Only an admin can install Slack for the team.');

  // The exchange is a network call: made before the transaction.
  const access = await oauthV2Access({ code: input.code, redirectUri: slackRedirectUri() }).catch((err) => {
    throw new AppError('slack_oauth_failed', 'Slack refused the install code. Start the install again.', 502, { cause: err });
  });
  if (!access.access_token || !access.bot_user_id || !access.team?.id)
    throw new AppError('slack_oauth_failed', 'Slack did not return a bot token. Check the app has a bot user.', 502);

  const { SlackInstallation } = channelModels();
  const installation = await db().transaction(async (transaction) => {
    const existing = await SlackInstallation.findOne({ where: { teamId: access.team.id }, transaction, lock: transaction.LOCK.UPDATE });
    if (existing && existing.tenantId !== auth.tenantId)
      throw conflict('slack_workspace_taken', 'This Slack workspace is already connected to another FlowSpark team.');
    const values = {
      tenantId: auth.tenantId,
      teamId: access.team.id,
      teamName: access.team.name ?? null,
      enterpriseId: access.enterprise?.id ?? null,
      appId: access.app_id ?? null,
      botUserId: access.bot_user_id,
      botTokenEncrypted: encryptSecret(access.access_token, TOKEN_PURPOSE),
      scopes: (access.scope ?? '').split(',').filter(Boolean),
      installedById: auth.userId,
      installerSlackUserId: access.authed_user?.id ?? null,
      updatedAt: new Date(),
    };
    const row = existing ? await existing.update(values, { transaction }) : await SlackInstallation.create(values, { transaction });
    await auditAs(auth, existing ? 'slack.reinstalled' : 'slack.installed', { type: 'slack_installation', id: row.id, details: { teamId: row.teamId, teamName: row.teamName } }, transaction);
    return row;
  });
  return presentInstallation(installation);
}

export async function findInstallationByTeam(teamId: string): Promise<SlackInstallation | null> {
  return channelModels().SlackInstallation.findOne({ where: { teamId } });
}

export const slackBotToken = (i: SlackInstallation) => decryptSecret(i.botTokenEncrypted, TOKEN_PURPOSE);

export async function listSlackInstallations(auth: AuthContext) {
  authorize(manageChannels(auth), 'Only an admin can see the Slack installation.');
  const rows = await channelModels().SlackInstallation.findAll({ where: { tenantId: auth.tenantId }, order: [['createdAt', 'ASC']] });
  return rows.map(presentInstallation);
}

export async function removeSlackInstallation(auth: AuthContext, id: string) {
  authorize(manageChannels(auth), 'Only an admin can remove the Slack installation.');
  await db().transaction(async (transaction) => {
    const row = await channelModels().SlackInstallation.findOne({ where: { id, tenantId: auth.tenantId }, transaction });
    if (!row) throw notFound('Slack installation', 'slack_installation_not_found');
    await row.destroy({ transaction });
    await auditAs(auth, 'slack.removed', { type: 'slack_installation', id, details: { teamId: row.teamId } }, transaction);
  });
}

/** Slack told us the app was uninstalled (or its tokens revoked): forget the workspace. */
export async function forgetSlackWorkspace(installation: SlackInstallation, reason: string) {
  await db().transaction(async (transaction) => {
    const n = await channelModels().SlackInstallation.destroy({ where: { id: installation.id, tenantId: installation.tenantId }, transaction });
    if (n) await recordAudit({ tenantId: installation.tenantId, action: 'slack.uninstalled', resourceType: 'slack_installation', resourceId: installation.id, details: { teamId: installation.teamId, reason } }, transaction);
  });
}
