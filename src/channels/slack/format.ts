// The reply as Slack shows it: the model's Markdown turned into Slack mrkdwn (escaped so no text becomes
// a mention or a link by accident), tool progress lines, and approval requests as Block Kit buttons.
import type { ReplyState } from '../shared/reply-state.js';

export const APPROVE_ACTION = 'fs_approval_approve';
export const DENY_ACTION = 'fs_approval_deny';
const MAX_TEXT = 39_000; // chat.update accepts 40k characters of text
const MAX_SECTION = 2_900; // a section block holds 3k

/** Slack requires &, < and > escaped in message text; everything else is literal. */
export const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Markdown → mrkdwn for what models usually write; code spans and blocks are left alone. */
export function toMrkdwn(markdown: string): string {
  return markdown
    .split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g)
    .map((part, i) => (i % 2 === 1 ? escapeSlack(part) : inline(escapeSlack(part))))
    .join('');
}

function inline(s: string): string {
  return s
    .replace(/^#{1,6}\s+(.+?)\s*#*$/gm, '\u0001$1\u0001')
    .replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_, a, b) => `\u0001${a ?? b}\u0001`)
    .replace(/(^|[^*\w])\*(?!\s)([^*\n]+?)\*(?![*\w])/g, '$1_$2_')
    .replace(/~~(.+?)~~/g, '~$1~')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)|]+)\)/g, '<$2|$1>')
    .replace(/^(\s*)[-*]\s+/gm, '$1• ')
    .replace(/\u0001/g, '*');
}

const TOOL_MARK = { running: ':hourglass_flowing_sand:', done: ':white_check_mark:', failed: ':x:', denied: ':no_entry_sign:' } as const;

export function replyText(state: ReplyState, opts: { final: boolean; prefix?: string }): string {
  const lines: string[] = [];
  if (opts.prefix) lines.push(opts.prefix);
  for (const t of state.tools) lines.push(`${TOOL_MARK[t.state]} _${escapeSlack(t.title)}_`);
  if (state.text.trim()) lines.push(toMrkdwn(state.text.trim()));
  else if (!opts.final && !state.approvals.length) lines.push('_Thinking…_');
  for (const a of state.approvals) lines.push(`:raised_hand: Waiting for your approval to run *${escapeSlack(a.title)}*.`);
  if (state.error) lines.push(`:warning: ${escapeSlack(state.error)}`);
  const text = lines.join('\n') || '_(no answer)_';
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + '… _(truncated)_' : text;
}

/** Blocks for a reply waiting on approvals: the text, then one Approve/Deny pair per request. */
export function approvalBlocks(text: string, state: ReplyState, conversationId: string): unknown[] {
  const blocks: unknown[] = [];
  for (let i = 0; i < text.length && blocks.length < 40; i += MAX_SECTION)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: text.slice(i, i + MAX_SECTION) } });
  for (const a of state.approvals) {
    const input = JSON.stringify(a.input ?? {}, null, 1);
    blocks.push({
      type: 'section',
      block_id: `fs_approval_text:${a.approvalId}`.slice(0, 255),
      text: { type: 'mrkdwn', text: `*Run ${escapeSlack(a.title)}?*\n\`\`\`${escapeSlack(input.length > 1500 ? input.slice(0, 1500) + '…' : input)}\`\`\`` },
    });
    const value = JSON.stringify({ c: conversationId, a: a.approvalId });
    blocks.push({
      type: 'actions',
      block_id: `fs_approval:${a.approvalId}`.slice(0, 255),
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value },
      ],
    });
  }
  return blocks;
}
