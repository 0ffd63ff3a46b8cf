// npm run db:maintain: monthly analytics partitions ahead, expired sessions removed.
import { deleteExpiredSessions } from '../src/auth/sessions.js';
import { loadConfig, setConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { ensureAnalyticsPartitions } from '../src/db/partitions.js';

const cfg = loadConfig();
setConfig(cfg);
const database = await openDatabase(cfg);
try {
  const created = await ensureAnalyticsPartitions(database.sequelize);
  const sessions = await deleteExpiredSessions();
  console.log(`partitions created: ${created.join(', ') || '(none needed)'}; expired sessions removed: ${sessions}`);
} finally {
  await database.close();
}
