// The server ends the render threads when it closes (src/documents/feature.ts attaches closeRenderPool).
import { rmSync } from 'node:fs';
import { expect, it } from 'vitest';
import '../../src/features.js';
import { renderThreadsRunning } from '../../src/documents/render-pool.js';
import { startServer } from '../../src/server.js';
import { signupTeam, testConfig } from '../support/harness.js';
import { report, testDataDir } from './support.js';

it('closing the server ends its render threads', async () => {
  const DATA_DIR = testDataDir();
  const running = await startServer(testConfig({ PORT: '0', RUN_WORKERS: 'false', DATA_DIR }));
  try {
    const team = await signupTeam();
    const res = await fetch(`${running.url}/api/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'pdf', content: report }),
    });
    expect(res.status).toBe(201);
    expect(renderThreadsRunning()).toBeGreaterThan(0);
  } finally {
    await running.close();
    rmSync(DATA_DIR, { recursive: true, force: true });
  }
  expect(renderThreadsRunning()).toBe(0);
}, 60_000);
