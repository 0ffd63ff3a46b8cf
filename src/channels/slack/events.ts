// Slack Events API intake. The route verifies the signature and answers url_verification; here an
// event_callback is checked (known workspace, an @mention in a channel or a direct message from a person,
// not a bot, an edit or our own message), its id claimed so a retry or a duplicate does nothing, and
// the answer produced after the HTTP acknowledgement: the user is mapped by email, a placeholder posted
// in the thread, the turn started and streamed into it. One conversation per Slack thread.
import { z } from 'zod';
import { startTurn } from '../../agents/turn.js';
import { log } from '../../log.js';
import { runInBackground } from '../shared/background.js';
import { turnRefusal } from '../shared/reply-state.js';
import { conversationExternalId } from '../shared/thread-conversation.js';
import type { SlackInstallation } from '../shared/models.js';
import { claimEvent } from '../shared/processed-events.js';
import { SlackClient } from './api.js';
import { escapeSlack } from './format.js';
import { findInstallationByTeam, forgetSlackWorkspace, slackBotToken } from './installations.js';
import { streamSlackReply } from './reply.js';
import { slackUserAuth, unmappedUserMessage } from './users.js';

const SlackMessageEvent = z.object({
  type: z.string(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().optional(),
  thread_ts: z.string().optional(),
  channel: z.string().optional(),
  channel_type: z.string().optional(),
  edited: z.unknown().optional(),
});
type SlackMessageEvent = z.infer<typeof SlackMessageEvent>;

export const SlackEventEnvelope = z.object({
  type: z.literal('event_callback'),
  event_id: z.string().min(1).max(255),
  team_id: z.string().min(1).max(32),
  event: SlackMessageEvent.passthrough(),
});

/** The message to answer, or null when the event is not one we act on. */
function actionable(event: SlackMessageEvent, installation: SlackInstallation): (SlackMessageEvent & { user: string; ts: string; channel: string }) | null {
  if (!event.user || !event.ts || !event.channel) return null;
  if (event.bot_id || event.subtype || event.edited || event.user === installation.botUserId) return null;
  if (event.type === 'app_mention') return event.channel.startsWith('D') ? null : (event as never); // DMs arrive as message.im
  if (event.type === 'message' && event.channel_type === 'im') return event as never;
  return null;
}

/** Accept a verified event_callback body; resolves before any reply work starts. */
export async function intakeSlackEvent(body: unknown, meta: { retryNum?: string }): Promise<void> {
  const parsed = SlackEventEnvelope.safeParse(body);
  if (!parsed.success) {
    log.info({ issues: parsed.error.issues.length }, 'slack event ignored: unrecognised shape');
    return;
  }
  const { event_id: eventId, team_id: teamId, event } = parsed.data;
  const installation = await findInstallationByTeam(teamId);
  if (!installation) {
    log.info({ teamId, eventId }, 'slack event from a workspace with no installation: ignored');
    return;
  }
  if (event.type === 'app_uninstalled' || event.type === 'tokens_revoked') {
    await forgetSlackWorkspace(installation, event.type);
    return;
  }
  const message = actionable(event, installation);
  if (!message) return;
  // Claim the event, and the message itself (the same message could reach us as two event types).
  const first = (await claimEvent('slack', eventId, installation.tenantId)) && (await claimEvent('slack', `msg:${teamId}:${message.channel}:${message.ts}`, installation.tenantId));
  if (!first) {
    log.info({ teamId, eventId, retryNum: meta.retryNum }, 'slack event already taken: duplicate ignored');
    return;
  }
  runInBackground('slack-event', () => answerSlackMessage(installation, message));
}

/** Slack's markup in a user's message → plain text for the model (our mention removed). */
export function plainText(text: string, botUserId: string): string {
  return text
    .replace(new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g'), ' ')
    .replace(/<([^<>|]+)\|([^<>]+)>/g, '$2')
    .replace(/<([^<>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

async function answerSlackMessage(installation: SlackInstallation, event: SlackMessageEvent & { user: string; ts: string; channel: string }) {
  const client = new SlackClient(slackBotToken(installation));
  const threadTs = event.thread_ts ?? event.ts;
  const tell = (text: string) =>
    client.postEphemeral({ channel: event.channel, user: event.user, thread_ts: event.thread_ts, text }).catch((err) => log.warn({ err: String(err) }, 'slack ephemeral failed'));

  let auth;
  try {
    auth = await slackUserAuth(installation, client, event.user);
  } catch (err) {
    log.warn({ err: String(err) }, 'slack users.info failed');
    await tell("I couldn't check who you are in Slack right now. Try again in a moment.");
    return;
  }
  if (!auth) {
    log.info({ teamId: installation.teamId, slackUser: event.user }, 'slack user not mapped to a tenant user');
    await tell(unmappedUserMessage());
    return;
  }
  const text = plainText(event.text ?? '', installation.botUserId);
  if (!text) {
    await tell('Ask me something after the mention, e.g. “@FlowSpark what do you remember about me?”');
    return;
  }
  const externalId = await conversationExternalId(auth, 'slack', `${installation.teamId}:${event.channel}:${threadTs}`, event.user);

  // The placeholder first: if Slack cannot take a reply, no turn runs and nothing is charged.
  let placeholder: { ts: string; channel: string };
  try {
    placeholder = await client.postMessage({ channel: event.channel, thread_ts: threadTs, text: '_Thinking…_' });
  } catch (err) {
    log.error({ err: String(err), teamId: installation.teamId }, 'slack reply could not be posted: turn not started');
    return;
  }
  const message = { channel: placeholder.channel ?? event.channel, ts: placeholder.ts };
  let turn;
  try {
    turn = await startTurn({ auth, channel: 'slack', externalId, text });
  } catch (err) {
    const refusal = turnRefusal(err);
    if (!refusal) log.error({ err }, 'slack turn could not start');
    await client
      .update({ ...message, text: `:warning: ${escapeSlack(refusal ?? 'Something went wrong on our side. Try again in a moment.')}` })
      .catch((e) => log.warn({ err: String(e) }, 'slack refusal update failed'));
    return;
  }
  await streamSlackReply(client, message, turn);
}
