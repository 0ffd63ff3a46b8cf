// Helpers for the channel tests: more people in a team, what a tenant's chat stored and was charged
// (to prove a refused or duplicated request started nothing), and quick backoff for the retry paths.
import { QueryTypes } from 'sequelize';
import type { AuthContext } from '../../src/auth/context.js';
import { createSession } from '../../src/auth/sessions.js';
import { createUser } from '../../src/auth/users.js';
import { retryDefaults } from '../../src/channels/shared/retry.js';
import { slackReplyTuning } from '../../src/channels/slack/reply.js';
import { db } from '../../src/db/index.js';
import { uniqueEmail, type Team } from '../support/harness.js';

export interface Person {
  token: string;
  userId: string;
  email: string;
  auth: AuthContext;
}

export async function addMember(team: Team, role: 'member' | 'viewer' | 'admin' = 'member', email = uniqueEmail('member')): Promise<Person> {
  const user = await createUser(team.auth, { email, role });
  const session = await createSession(user, { ip: '127.0.0.1', userAgent: 'vitest' });
  return { token: session.token, userId: user.id, email, auth: { tenantId: team.tenantId, userId: user.id, role, email } };
}

/** Plain SQL read. */
export function rows<T extends object = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  return db().query<T>(sql, { replacements, type: QueryTypes.SELECT });
}

/** Turns a tenant has had, as stored and charged. */
export async function footprint(tenantId: string) {
  const [c] = await rows<{ conversations: number; messages: number; toolCalls: number; usage: number; debits: number }>(
    `SELECT (SELECT count(*) FROM agents_conversation WHERE tenant_id = :tenantId)::int AS conversations,
            (SELECT count(*) FROM agents_interaction WHERE tenant_id = :tenantId AND interaction_type = 'message')::int AS messages,
            (SELECT count(*) FROM agents_interaction WHERE tenant_id = :tenantId AND interaction_type = 'tool_call')::int AS "toolCalls",
            (SELECT count(*) FROM analytics_usage WHERE tenant_id = :tenantId AND activity_type = 'chat_turn')::int AS usage,
            (SELECT count(*) FROM billing_token_transaction WHERE tenant_id = :tenantId AND amount < 0)::int AS debits`,
    { tenantId },
  );
  return c!;
}

export const storedMessages = (tenantId: string) =>
  rows<{ data: any; conversation_id: string }>(
    `SELECT i.data, i.conversation_id FROM agents_interaction i WHERE i.tenant_id = :tenantId AND i.interaction_type = 'message' ORDER BY i.created_at, i.id`,
    { tenantId },
  );

/** Retries in milliseconds rather than seconds. */
export function fastRetries() {
  retryDefaults.baseDelayMs = 5;
  retryDefaults.maxDelayMs = 50;
  slackReplyTuning.updateIntervalMs = 20;
}

export const randomId = (prefix: string, n = 9) => prefix + Math.random().toString(36).slice(2, 2 + n).toUpperCase();
