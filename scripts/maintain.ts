// npm run db:maintain: monthly analytics partitions ahead, expired sessions removed, expired free
// billing periods rolled over (quota counters reset, included tokens credited once).
import { deleteExpiredSessions } from '../src/auth/sessions.js';
import { loadConfigOrExit, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { ensureAnalyticsPartitions } from '../src/db/partitions.js';
import { rollOverPeriods } from '../src/billing/subscriptions.js';

const cfg = loadConfigOrExit();
setConfig(cfg);
const database = await openDatabase(cfg);
try {
  const created = await ensureAnalyticsPartitions(database.sequelize);
  const sessions = await deleteExpiredSessions();
  const periods = await rollOverPeriods();
  console.log(`partitions created: ${created.join(', ') || '(none needed)'}; expired sessions removed: ${sessions}; billing periods rolled over: ${periods}`);
} finally {
  await database.close();
}
