// The low-balance alert reaches the team's open sockets as a `notification` (and only that team's).
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/features.js';
import { debitTokens } from '../../src/billing/ledger.js';
import { startServer, type Running } from '../../src/server.js';
import { signupTeam, testConfig } from '../support/harness.js';

let server: Running;
beforeAll(async () => {
  server = await startServer(testConfig({ PORT: '0', RUN_WORKERS: 'false' }));
});
afterAll(async () => {
  await server?.close();
});

function connect(token: string): Promise<{ socket: Socket; notifications: unknown[] }> {
  const socket = io(`${server.url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const notifications: unknown[] = [];
  socket.on('notification', (n) => notifications.push(n));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, notifications }));
    socket.once('connect_error', reject);
  });
}

describe('low-balance notification', () => {
  it('is pushed once to the team’s sockets when the balance crosses the threshold', async () => {
    const team = await signupTeam();
    const other = await signupTeam();
    const mine = await connect(team.token);
    const theirs = await connect(other.token);
    try {
      await debitTokens({ tenantId: team.tenantId, tokens: 49_500, operation: 'chat_turn' });
      await debitTokens({ tenantId: team.tenantId, tokens: 100, operation: 'chat_turn' });
      await expect.poll(() => mine.notifications.length).toBe(1);
      expect(mine.notifications[0]).toEqual({ type: 'low_balance', balance: 500, threshold: 1000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(mine.notifications).toHaveLength(1);
      expect(theirs.notifications).toHaveLength(0);
    } finally {
      mine.socket.close();
      theirs.socket.close();
    }
  });
});
