// Who a Slack user is in the tenant: their Slack profile email (users.info, needs users:read.email),
// which Slack has confirmed, matched to an active tenant user with that email. Only the email is cached
// (10 minutes): a role change or a deactivation in FlowSpark applies at once.
import type { AuthContext } from '../../auth/context.js';
import { cache } from '../../cache/index.js';
import { authForEmail } from '../shared/channel-user.js';
import type { SlackInstallation } from '../shared/models.js';
import type { SlackClient } from './api.js';

const EMAIL_TTL_SECONDS = 600;

export async function slackUserEmail(installation: SlackInstallation, client: SlackClient, slackUserId: string): Promise<string | null> {
  const key = `slack-user-email:${installation.teamId}:${slackUserId}`;
  const hit = await cache().get(key);
  if (hit !== null) return hit || null;
  const user = await client.userInfo(slackUserId);
  const email = !user.deleted && !user.is_bot && user.is_email_confirmed !== false ? (user.profile?.email?.trim().toLowerCase() ?? '') : '';
  await cache().set(key, email, EMAIL_TTL_SECONDS);
  return email || null;
}

export async function slackUserAuth(installation: SlackInstallation, client: SlackClient, slackUserId: string): Promise<AuthContext | null> {
  const email = await slackUserEmail(installation, client, slackUserId);
  return email ? authForEmail(installation.tenantId, email) : null;
}

export const unmappedUserMessage = () =>
  "I couldn't match your Slack account to a FlowSpark user in this team (I look you up by your Slack email). Ask a FlowSpark admin to invite you with the email address you use in Slack.";
