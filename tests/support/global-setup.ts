// Once per test run: the database every test file shares. DATABASE_URL set → that server (CI's real
// PostgreSQL + pgvector); unset → an in-memory embedded engine served over pglite-socket, exactly as
// `npm start` serves its own. Migrations are applied here once; tests keep apart by making a fresh tenant.
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/index.js';

export default async function setup(project: TestProject) {
  const cfg = loadConfig({ ...process.env, NODE_ENV: 'test', DB_POOL_MAX: '40', LOG_LEVEL: 'silent' });
  const database = await openDatabase(cfg, { embeddedDir: 'memory://' });
  project.provide('databaseUrl', database.url);
  project.provide('embedded', !!database.embedded);
  // Keep the engine up for the workers; close our own pool connections.
  await database.sequelize.close();
  return async () => {
    await database.embedded?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    embedded: boolean;
  }
}
