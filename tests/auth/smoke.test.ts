import { describe, expect, it } from 'vitest';
import { call, signupTeam, useTestApp } from '../support/harness.js';

useTestApp();

describe('smoke', () => {
  it('signs up and reads /api/me', async () => {
    const team = await signupTeam();
    const me = await call('GET', '/api/me', { token: team.token });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(team.email);
  });
});
