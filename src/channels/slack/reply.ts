// Streaming a turn into one Slack message: posted first as a placeholder, then edited with chat.update
// as the reply grows (at most every UPDATE_INTERVAL_MS, one call at a time, so Slack's rate limits hold),
// and a last time at the end with the complete text and, when a tool waits for approval, its buttons.
// A failed progress update is skipped (the next one carries the same text); the final one is retried.
import type { StartedTurn } from '../../agents/turn.js';
import { log } from '../../log.js';
import { followTurn } from '../shared/reply-state.js';
import { throttled } from '../shared/throttle.js';
import type { SlackClient } from './api.js';
import { approvalBlocks, replyText } from './format.js';

export const slackReplyTuning = { updateIntervalMs: 700 };

export async function streamSlackReply(client: SlackClient, message: { channel: string; ts: string }, turn: StartedTurn, prefix?: string): Promise<void> {
  const progress = throttled<string>(slackReplyTuning.updateIntervalMs, async (text) => {
    await client.update({ ...message, text }, { attempts: 1 }).catch((err) => log.warn({ err: String(err) }, 'slack progress update failed'));
  });
  const { state, result } = await followTurn(turn, (s) => progress.push(replyText(s, { final: false, prefix })));
  await progress.settle();
  const text = replyText(state, { final: true, prefix });
  const blocks = result.status === 'awaiting_approval' && state.approvals.length ? approvalBlocks(text, state, turn.conversationId) : undefined;
  try {
    await client.update({ ...message, text, blocks });
  } catch (err) {
    // The turn is stored and charged; the user can still read it in FlowSpark. Never run it again.
    log.error({ err: String(err), conversationId: turn.conversationId }, 'slack final update failed');
  }
}
