// Migrations: ordered files in migrations/, applied by Umzug and tracked in the `schema_migrations`
// table. Each migration runs inside its own transaction (PostgreSQL DDL is transactional), so a failed
// one leaves nothing half-applied. Both directions are implemented for every file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { log } from '../log.js';

export interface MigrationContext {
  /** Run SQL inside this migration's transaction. */
  query(sql: string, replacements?: Record<string, unknown>): Promise<unknown>;
  sequelize: Sequelize;
  transaction: Transaction;
  embeddingDimensions: number;
}

export type Migration = (params: { name: string; context: MigrationContext }) => Promise<void>;

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export function createMigrator(sequelize: Sequelize, opts: { embeddingDimensions: number }) {
  const umzug = new Umzug<MigrationContext>({
    migrations: {
      glob: ['*.ts', { cwd: MIGRATIONS_DIR, ignore: ['*.d.ts'] }],
      resolve: ({ name, path: file }) => {
        const load = () => import(file!) as Promise<{ up: Migration; down: Migration }>;
        const run = (dir: 'up' | 'down') => async () => {
          const mod = await load();
          await sequelize.transaction(async (transaction) => {
            const context: MigrationContext = {
              query: (sql, replacements) =>
                sequelize.query(sql, { transaction, replacements, type: QueryTypes.RAW }),
              sequelize,
              transaction,
              embeddingDimensions: opts.embeddingDimensions,
            };
            await mod[dir]({ name, context });
          });
        };
        return { name: name.replace(/\.ts$/, ''), up: run('up'), down: run('down') };
      },
    },
    context: {} as MigrationContext,
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: {
      info: (m) => log.info(m, 'migration'),
      warn: (m) => log.warn(m, 'migration'),
      error: (m) => log.error(m, 'migration'),
      debug: (m) => log.debug(m, 'migration'),
    },
  });
  return umzug;
}

export async function migrateUp(sequelize: Sequelize, opts: { embeddingDimensions: number }) {
  return createMigrator(sequelize, opts).up();
}
