// Which conversation a platform thread is (one per Slack thread / Teams conversation, one per user in it),
// and what its last assistant message asked, for answering an approval in place.
import { createHash } from 'node:crypto';
import { toMessage, type ChatMessage } from '../../agents/conversations.js';
import type { AuthContext } from '../../auth/context.js';
import { Conversation, Interaction } from '../../db/models/index.js';
import { toolTitle } from './reply-state.js';

/**
 * The external id of the conversation for a platform thread. One conversation per thread; a conversation
 * belongs to one user (memory, approvals), so when someone else speaks in a thread another user started,
 * they get their own conversation for it, keyed by their platform id too.
 */
export async function conversationExternalId(auth: AuthContext, channel: 'slack' | 'teams', thread: string, platformUserId: string): Promise<string> {
  const base = fitExternalId(thread);
  const existing = await Conversation.findOne({ where: { tenantId: auth.tenantId, channel, externalId: base }, attributes: ['userId'] });
  if (!existing || existing.userId === auth.userId) return base;
  return fitExternalId(`${thread}:${platformUserId}`);
}

/** agents_conversation.external_id is VARCHAR(255); long platform ids (Teams) are hashed. */
const fitExternalId = (id: string) => (id.length <= 200 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`);

/** The conversation's last message if it is the assistant's (the one an approval answer continues). */
export async function lastAssistantMessage(auth: AuthContext, conversationId: string): Promise<ChatMessage | null> {
  const row = await Interaction.findOne({
    where: { tenantId: auth.tenantId, userId: auth.userId, conversationId, interactionType: 'message' },
    order: [['createdAt', 'DESC'], ['id', 'DESC']],
  });
  const message = row ? toMessage(row) : null;
  return message?.role === 'assistant' ? message : null;
}

/** The title of the tool whose approval `approvalId` asks for, in an assistant message. */
export function approvalTitle(message: ChatMessage | null, approvalId: string): string {
  const part = message?.parts.find((p) => (p as { approval?: { id?: string } }).approval?.id === approvalId);
  return part?.type.startsWith('tool-') ? toolTitle(part.type.slice(5)) : 'the tool';
}
