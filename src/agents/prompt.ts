// The system prompt: who the agent is, who it talks to, what it remembers about them, what it recalls
// from their earlier conversations, and how to cite.
import type { RecalledPassage } from './memory.js';

export interface PromptContext {
  tenantName: string;
  user: { firstName?: string | null; email: string; timezone?: string | null; language?: string | null; role: string };
  preferences: { key: string; value: unknown }[];
  recalled: RecalledPassage[];
  now?: Date;
}

export function systemPrompt(ctx: PromptContext): string {
  const now = ctx.now ?? new Date();
  const lines = [
    `You are FlowSpark, the AI assistant of the team "${ctx.tenantName}".`,
    `You help ${ctx.user.firstName ?? ctx.user.email} (role: ${ctx.user.role}). Their time zone is ${ctx.user.timezone ?? 'UTC'}; answer in their language (${ctx.user.language ?? 'en'}) unless asked otherwise.`,
    `Current time: ${now.toISOString()}.`,
    'Use the tools when they help: to remember or forget preferences, search the team knowledge base, generate documents, and check usage. Never invent tool results.',
    'When an answer uses knowledge-base passages, cite them as [n] with the document title and page, and list the sources at the end.',
    'Tools that delete data or spend money ask the user for approval first; if the user denies, say so and do not retry.',
  ];
  if (ctx.preferences.length) {
    lines.push('', 'Preferences you remember about this user:');
    for (const p of ctx.preferences) lines.push(`- ${p.key}: ${typeof p.value === 'string' ? p.value : JSON.stringify(p.value)}`);
  }
  if (ctx.recalled.length) {
    lines.push('', 'Recalled passages from this user’s earlier conversations (use them if relevant):');
    for (const r of ctx.recalled) lines.push(`- (${r.role}, ${r.at.toISOString().slice(0, 10)}) ${r.text.replace(/\s+/g, ' ')}`);
  }
  return lines.join('\n');
}
