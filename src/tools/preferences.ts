// Memory tools: the agent remembers, lists and forgets the user's preferences.
import { z } from 'zod';
import { deletePreference, listPreferences, setPreference } from '../agents/preferences.js';
import { defineTool } from './registry.js';

const KEY = z.string().trim().min(1).max(100).describe('Short name of the preference, e.g. "tone" or "report_format"');

export const rememberPreference = defineTool({
  name: 'remember_preference',
  title: 'Remember a preference',
  description: 'Store something the user wants remembered across conversations (a preference, a fact about how they work).',
  inputSchema: z.object({ key: KEY, value: z.string().trim().min(1).max(2000).describe('What to remember') }),
  outputSchema: z.object({ key: z.string(), value: z.unknown(), updatedAt: z.coerce.date() }),
  minRole: 'viewer',
  readOnly: false,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(remember|note|keep in mind)\b.*\b(that|my|i)\b/i, /\bmy (preferred|favou?rite)\b/i],
    extract: (text) => {
      const named = text.match(/my (?:preferred |favou?rite )?([a-z][\w ]{0,40}?) (?:is|are) ["“]?([^"”.!?\n]+)/i);
      if (named) return { key: named[1]!.trim(), value: named[2]!.trim() };
      const liking = text.match(/(?:remember|note)(?: that)? i (?:prefer|like|want|use) ["“]?([^"”.!?\n]+)/i);
      return liking ? { key: 'preference', value: liking[1]!.trim() } : undefined;
    },
    describe: (o: { key: string; value: unknown }) => `I'll remember your ${o.key.replace(/_/g, ' ')}: ${String(o.value)}.`,
  },
  execute: (input, ctx) => setPreference(ctx, input.key, input.value),
});

export const forgetPreference = defineTool({
  name: 'forget_preference',
  title: 'Forget a preference',
  description: 'Delete one remembered preference of the user. Needs the user’s approval.',
  inputSchema: z.object({ key: KEY }),
  outputSchema: z.object({ key: z.string(), deleted: z.boolean() }),
  minRole: 'viewer',
  readOnly: false,
  destructive: true,
  idempotent: true,
  needsApproval: true,
  intents: {
    patterns: [/\b(forget|delete|remove|erase)\b.*\b(preference|remember|my)\b/i],
    extract: (text) => {
      const m = text.match(/(?:forget|delete|remove|erase) (?:my |the )?(?:preference (?:for |about )?)?["“]?([a-z][\w ]{0,40}?)["”]?(?: preference)?[.!?]?$/i);
      return m ? { key: m[1]!.trim() } : undefined;
    },
    describe: (o: { key: string }) => `I've forgotten your ${o.key.replace(/_/g, ' ')} preference.`,
  },
  execute: (input, ctx) => deletePreference(ctx, input.key),
});

export const listPreferencesTool = defineTool({
  name: 'list_preferences',
  title: 'List preferences',
  description: 'List everything remembered about the user.',
  inputSchema: z.object({}),
  outputSchema: z.object({ preferences: z.array(z.object({ key: z.string(), value: z.unknown() })) }),
  minRole: 'viewer',
  readOnly: true,
  destructive: false,
  idempotent: true,
  needsApproval: false,
  intents: {
    patterns: [/\b(what|which|list|show)\b.*\b(preferences|remember|know about me)\b/i],
    extract: () => ({}),
    describe: (o: { preferences: { key: string; value: unknown }[] }) =>
      o.preferences.length
        ? `Here is what I remember: ${o.preferences.map((p) => `${p.key.replace(/_/g, ' ')}: ${String(p.value)}`).join('; ')}.`
        : 'I have nothing remembered about you yet.',
  },
  execute: async (_input, ctx) => ({ preferences: (await listPreferences(ctx)).map(({ key, value }) => ({ key, value })) }),
});
