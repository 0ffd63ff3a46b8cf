// npm run db:migrate [up|down|status] [--to NAME]: migrations against DATABASE_URL or the embedded default.
import { loadConfigOrExit } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { createMigrator } from '../src/db/migrate.js';
import { ensureAnalyticsPartitions } from '../src/db/partitions.js';
import { log } from '../src/log.js';

const cfg = loadConfigOrExit();
log.level = cfg.LOG_LEVEL;
const [cmd = 'up', ...rest] = process.argv.slice(2);
const to = rest[rest.indexOf('--to') + 1];
const database = await openDatabase(cfg, { migrate: false });
const migrator = createMigrator(database.sequelize, { embeddingDimensions: cfg.EMBEDDING_DIMENSIONS });
try {
  if (cmd === 'up') {
    const done = await migrator.up(rest.includes('--to') ? { to } : {});
    await ensureAnalyticsPartitions(database.sequelize);
    console.log(done.length ? `applied: ${done.map((m) => m.name).join(', ')}` : 'nothing to apply');
  } else if (cmd === 'down') {
    const done = await migrator.down(rest.includes('--to') ? { to: to === '0' ? 0 : to } : {});
    console.log(done.length ? `reverted: ${done.map((m) => m.name).join(', ')}` : 'nothing to revert');
  } else if (cmd === 'status') {
    console.log('applied:', (await migrator.executed()).map((m) => m.name).join(', ') || '(none)');
    console.log('pending:', (await migrator.pending()).map((m) => m.name).join(', ') || '(none)');
  } else {
    console.error(`unknown command "${cmd}": use up, down or status`);
    process.exitCode = 2;
  }
} finally {
  await database.close();
}
