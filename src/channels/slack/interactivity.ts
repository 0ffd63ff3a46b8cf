// Slack interactivity: the Approve / Deny buttons of a reply waiting on a tool. The route verifies the
// signature (same scheme as events) and acknowledges; here the clicker is mapped by email and must be
// the person whose conversation it is, and their answer continues the turn, streamed into the same
// message. A second click (or a click on an answered request) starts nothing: the turn machinery refuses
// an approval that is no longer pending, atomically.
import { z } from 'zod';
import { startTurn } from '../../agents/turn.js';
import { Conversation } from '../../db/models/index.js';
import { log } from '../../log.js';
import { runInBackground } from '../shared/background.js';
import { turnRefusal } from '../shared/reply-state.js';
import { approvalTitle, lastAssistantMessage } from '../shared/thread-conversation.js';
import type { SlackInstallation } from '../shared/models.js';
import { SlackClient } from './api.js';
import { APPROVE_ACTION, DENY_ACTION, escapeSlack, toMrkdwn } from './format.js';
import { findInstallationByTeam, slackBotToken } from './installations.js';
import { streamSlackReply } from './reply.js';
import { slackUserAuth, unmappedUserMessage } from './users.js';

const BlockActions = z.object({
  type: z.literal('block_actions'),
  team: z.object({ id: z.string() }),
  user: z.object({ id: z.string() }),
  container: z.object({ channel_id: z.string().optional(), message_ts: z.string().optional(), thread_ts: z.string().optional() }).passthrough(),
  channel: z.object({ id: z.string() }).optional(),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).passthrough().optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() }).passthrough()).min(1),
});
type BlockActions = z.infer<typeof BlockActions>;

const ApprovalValue = z.object({ c: z.string().uuid(), a: z.string().min(1).max(200) });

export async function intakeSlackInteraction(payload: unknown): Promise<void> {
  const parsed = BlockActions.safeParse(payload);
  if (!parsed.success) return; // other interaction types (shortcuts, views) are not used
  const p = parsed.data;
  const action = p.actions.find((a) => a.action_id === APPROVE_ACTION || a.action_id === DENY_ACTION);
  if (!action?.value) return;
  let value: z.infer<typeof ApprovalValue>;
  try {
    value = ApprovalValue.parse(JSON.parse(action.value));
  } catch {
    return;
  }
  const installation = await findInstallationByTeam(p.team.id);
  if (!installation) {
    log.info({ teamId: p.team.id }, 'slack interaction from a workspace with no installation: ignored');
    return;
  }
  const channel = p.container.channel_id ?? p.channel?.id;
  const ts = p.container.message_ts ?? p.message?.ts;
  if (!channel || !ts) return;
  const approved = action.action_id === APPROVE_ACTION;
  runInBackground('slack-approval', () => answerApproval(installation, p, { channel, ts, threadTs: p.message?.thread_ts ?? p.container.thread_ts }, value, approved));
}

async function answerApproval(
  installation: SlackInstallation,
  p: BlockActions,
  message: { channel: string; ts: string; threadTs?: string },
  value: { c: string; a: string },
  approved: boolean,
) {
  const client = new SlackClient(slackBotToken(installation));
  const tell = (text: string) =>
    client.postEphemeral({ channel: message.channel, user: p.user.id, thread_ts: message.threadTs, text }).catch((err) => log.warn({ err: String(err) }, 'slack ephemeral failed'));

  const auth = await slackUserAuth(installation, client, p.user.id).catch((err) => {
    log.warn({ err: String(err) }, 'slack users.info failed');
    return undefined;
  });
  if (auth === undefined) return void (await tell("I couldn't check who you are in Slack right now. Try again in a moment."));
  if (!auth) return void (await tell(unmappedUserMessage()));
  const conversation = await Conversation.findOne({ where: { id: value.c, tenantId: auth.tenantId, channel: 'slack' } });
  if (!conversation || conversation.userId !== auth.userId) return void (await tell('Only the person who asked can approve or deny this.'));

  const before = await lastAssistantMessage(auth, conversation.id);
  let turn;
  try {
    turn = await startTurn({ auth, channel: 'slack', conversationId: conversation.id, approvals: [{ approvalId: value.a, approved }] });
  } catch (err) {
    const refusal = turnRefusal(err);
    if (!refusal) log.error({ err }, 'slack approval turn could not start');
    return void (await tell(refusal ?? 'Something went wrong on our side. Try again in a moment.'));
  }
  const earlier = before ? toMrkdwn(before.parts.filter((x) => x.type === 'text').map((x) => (x as { text: string }).text).join('\n\n').trim()) : '';
  const decision = `${approved ? ':white_check_mark:' : ':no_entry_sign:'} <@${p.user.id}> ${approved ? 'approved' : 'denied'} *${escapeSlack(approvalTitle(before, value.a))}*.`;
  await streamSlackReply(client, { channel: message.channel, ts: message.ts }, turn, [earlier, decision].filter(Boolean).join('\n'));
}
