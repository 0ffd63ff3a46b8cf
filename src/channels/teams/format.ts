// The reply as Teams shows it: Markdown text (Teams renders a subset; HTML is escaped so nothing a model
// or a document wrote becomes markup), tool progress lines, and approval requests as an Adaptive Card
// whose Action.Submit buttons come back to the bot as a message activity carrying `value`.
import type { ReplyState } from '../shared/reply-state.js';
import type { OutgoingActivity } from './connector.js';

export const APPROVAL_ACTION = 'fs_approval';
const MAX_TEXT = 24_000; // Teams messages are limited to about 28 KB

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const MARK = { running: '⏳', done: '✅', failed: '❌', denied: '🚫' } as const;

export function teamsReplyText(state: ReplyState, prefix?: string): string {
  const lines: string[] = [];
  if (prefix) lines.push(prefix);
  for (const t of state.tools) lines.push(`${MARK[t.state]} _${escapeHtml(t.title)}_`);
  if (state.text.trim()) lines.push(escapeHtml(state.text.trim()));
  for (const a of state.approvals) lines.push(`✋ Waiting for your approval to run **${escapeHtml(a.title)}**.`);
  if (state.error) lines.push(`⚠️ ${escapeHtml(state.error)}`);
  const text = lines.join('\n\n') || '_(no answer)_';
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + '… _(truncated)_' : text;
}

/** The final reply activity: text, plus one Adaptive Card per approval the turn waits for. */
export function teamsReply(state: ReplyState, conversationId: string, replyToId: string, prefix?: string): OutgoingActivity {
  const activity: OutgoingActivity = { type: 'message', textFormat: 'markdown', text: teamsReplyText(state, prefix), replyToId };
  if (state.approvals.length)
    activity.attachments = state.approvals.map((a) => ({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.4',
        body: [
          { type: 'TextBlock', text: `Run ${a.title}?`, weight: 'Bolder', wrap: true },
          { type: 'TextBlock', text: JSON.stringify(a.input ?? {}).slice(0, 1500), fontType: 'Monospace', wrap: true, isSubtle: true },
        ],
        actions: [
          { type: 'Action.Submit', title: 'Approve', style: 'positive', data: { fsAction: APPROVAL_ACTION, c: conversationId, a: a.approvalId, approved: true } },
          { type: 'Action.Submit', title: 'Deny', style: 'destructive', data: { fsAction: APPROVAL_ACTION, c: conversationId, a: a.approvalId, approved: false } },
        ],
      },
    }));
  return activity;
}
