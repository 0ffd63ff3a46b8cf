// Teams activities after their token is verified: messages in personal chats, group chats and channels
// (our @mention stripped), and Adaptive Card submits answering a tool approval. The Entra tenant
// (channelData.tenant.id) names the FlowSpark team through an admin's registration; the sender is looked
// up in the conversation roster (Bot Connector members API) for their Entra email / UPN and matched to an
// active user of that team. Each activity id is claimed once, so a redelivery never starts a second turn.
// The reply is produced after the HTTP acknowledgement and posted as a reply to the activity.
import { Activity, ActivityTypes } from '@microsoft/agents-activity';
import { z } from 'zod';
import { startTurn, type StartedTurn } from '../../agents/turn.js';
import type { AuthContext } from '../../auth/context.js';
import { cache } from '../../cache/index.js';
import { Conversation } from '../../db/models/index.js';
import { log } from '../../log.js';
import { runInBackground } from '../shared/background.js';
import { authForEmail } from '../shared/channel-user.js';
import { followTurn, turnRefusal } from '../shared/reply-state.js';
import { approvalTitle, conversationExternalId, lastAssistantMessage } from '../shared/thread-conversation.js';
import { claimEvent } from '../shared/processed-events.js';
import { teamsConnector } from './connector.js';
import { APPROVAL_ACTION, teamsReply } from './format.js';
import { tenantForEntra } from './registrations.js';

const EMAIL_TTL_SECONDS = 600;

const ApprovalSubmit = z.object({ fsAction: z.literal(APPROVAL_ACTION), c: z.string().uuid(), a: z.string().min(1).max(200), approved: z.boolean() });

interface Incoming {
  activity: Activity;
  serviceUrl: string;
  conversationId: string;
  activityId: string;
  fromId: string;
  entraTenantId: string;
}

export async function intakeTeamsActivity(activity: Activity): Promise<void> {
  if (activity.type !== ActivityTypes.Message) return; // conversationUpdate, typing, reactions…: nothing to answer
  const serviceUrl = activity.serviceUrl;
  const conversationId = activity.conversation?.id;
  const fromId = activity.from?.id;
  const channelData = activity.channelData as { tenant?: { id?: string } } | undefined;
  const entraTenantId = channelData?.tenant?.id ?? activity.conversation?.tenantId;
  if (!serviceUrl || !conversationId || !fromId || !activity.id || !entraTenantId) {
    log.info({ activityId: activity.id }, 'teams activity without conversation, sender or tenant: ignored');
    return;
  }
  if (fromId === activity.recipient?.id) return;
  const tenantId = await tenantForEntra(entraTenantId);
  if (!(await claimEvent('teams', `${conversationId}|${activity.id}`, tenantId))) {
    log.info({ activityId: activity.id }, 'teams activity already taken: duplicate ignored');
    return;
  }
  const incoming: Incoming = { activity, serviceUrl, conversationId, activityId: activity.id, fromId, entraTenantId };
  runInBackground('teams-activity', () => answerActivity(incoming, tenantId));
}

function say(incoming: Incoming, text: string) {
  return teamsConnector
    .reply(incoming.serviceUrl, incoming.conversationId, incoming.activityId, { type: 'message', textFormat: 'markdown', text, replyToId: incoming.activityId })
    .catch((err) => log.warn({ err: String(err) }, 'teams notice could not be posted'));
}

async function senderAuth(incoming: Incoming, tenantId: string): Promise<AuthContext | null> {
  const key = `teams-user-email:${incoming.entraTenantId}:${incoming.fromId}`;
  let email = await cache().get(key);
  if (email === null) {
    const member = await teamsConnector.member(incoming.serviceUrl, incoming.conversationId, incoming.fromId);
    const candidate = [member.email, member.userPrincipalName].find((v) => typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v) && !v.includes('#EXT#'));
    email = candidate?.toLowerCase() ?? '';
    await cache().set(key, email, EMAIL_TTL_SECONDS);
  }
  return email ? authForEmail(tenantId, email) : null;
}

async function answerActivity(incoming: Incoming, tenantId: string | null) {
  if (!tenantId) {
    log.info({ entraTenantId: incoming.entraTenantId }, 'teams activity from an unregistered Entra tenant');
    await say(incoming, "This Microsoft Teams organisation isn't connected to FlowSpark yet. Ask a FlowSpark admin to connect it.");
    return;
  }
  let auth: AuthContext | null;
  try {
    auth = await senderAuth(incoming, tenantId);
  } catch (err) {
    log.warn({ err: String(err) }, 'teams member lookup failed');
    return void (await say(incoming, "I couldn't check who you are in Teams right now. Try again in a moment."));
  }
  if (!auth) {
    log.info({ entraTenantId: incoming.entraTenantId }, 'teams user not mapped to a tenant user');
    await say(incoming, "I couldn't match your Microsoft account to a FlowSpark user in this team (I look you up by your work email). Ask a FlowSpark admin to invite you with that email.");
    return;
  }
  const submit = ApprovalSubmit.safeParse(incoming.activity.value);
  if (submit.success) return answerApproval(incoming, auth, submit.data);

  incoming.activity.normalizeMentions(true);
  const text = (incoming.activity.text ?? '').replace(/\s+/g, ' ').trim();
  if (!text) return void (await say(incoming, 'Ask me something, e.g. “what do you remember about me?”'));
  const externalId = await conversationExternalId(auth, 'teams', `${incoming.entraTenantId}:${incoming.conversationId}`, incoming.fromId);
  let turn: StartedTurn;
  try {
    turn = await startTurn({ auth, channel: 'teams', externalId, text });
  } catch (err) {
    const refusal = turnRefusal(err);
    if (!refusal) log.error({ err }, 'teams turn could not start');
    return void (await say(incoming, `⚠️ ${refusal ?? 'Something went wrong on our side. Try again in a moment.'}`));
  }
  await deliver(incoming, turn);
}

async function answerApproval(incoming: Incoming, auth: AuthContext, submit: z.infer<typeof ApprovalSubmit>) {
  const conversation = await Conversation.findOne({ where: { id: submit.c, tenantId: auth.tenantId, channel: 'teams' } });
  if (!conversation || conversation.userId !== auth.userId) return void (await say(incoming, 'Only the person who asked can approve or deny this.'));
  const before = await lastAssistantMessage(auth, conversation.id);
  let turn: StartedTurn;
  try {
    turn = await startTurn({ auth, channel: 'teams', conversationId: conversation.id, approvals: [{ approvalId: submit.a, approved: submit.approved }] });
  } catch (err) {
    const refusal = turnRefusal(err);
    if (!refusal) log.error({ err }, 'teams approval turn could not start');
    return void (await say(incoming, refusal ?? 'Something went wrong on our side. Try again in a moment.'));
  }
  const decision = `${submit.approved ? '✅ Approved' : '🚫 Denied'}: **${approvalTitle(before, submit.a)}**`;
  // Replace the card that was clicked, so its buttons are gone (best effort).
  const cardId = incoming.activity.replyToId;
  if (cardId)
    await teamsConnector
      .update(incoming.serviceUrl, incoming.conversationId, cardId, { type: 'message', textFormat: 'markdown', text: decision })
      .catch((err) => log.warn({ err: String(err) }, 'teams approval card could not be updated'));
  await deliver(incoming, turn, decision);
}

/** Follow the turn to its end and post the reply; a failure to post is retried, never the turn. */
async function deliver(incoming: Incoming, turn: StartedTurn, prefix?: string) {
  const { state } = await followTurn(turn, () => {});
  try {
    await teamsConnector.reply(incoming.serviceUrl, incoming.conversationId, incoming.activityId, teamsReply(state, turn.conversationId, incoming.activityId, prefix));
  } catch (err) {
    log.error({ err: String(err), conversationId: turn.conversationId }, 'teams reply could not be posted');
  }
}
