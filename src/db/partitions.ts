// Monthly partitions of analytics_usage, created ahead (current month + the next `ahead` months) at
// start-up and by `npm run db:maintain`, so an insert never waits on a missing partition. Rows that
// landed in the default partition for a month are moved into that month's partition when it is made.
import type { Sequelize } from 'sequelize';

const pad = (n: number) => String(n).padStart(2, '0');
const monthStart = (y: number, m: number) => new Date(Date.UTC(y, m, 1));
const iso = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-01`;

export function partitionName(d: Date): string {
  return `analytics_usage_${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}`;
}

export async function ensureAnalyticsPartitions(
  sequelize: Sequelize,
  now: Date = new Date(),
  ahead = 2,
): Promise<string[]> {
  const created: string[] = [];
  for (let i = 0; i <= ahead; i++) {
    const from = monthStart(now.getUTCFullYear(), now.getUTCMonth() + i);
    const to = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
    const name = partitionName(from);
    await sequelize.transaction(async (transaction) => {
      const [rows] = await sequelize.query(`SELECT to_regclass(:name) AS reg`, {
        replacements: { name },
        transaction,
      });
      if ((rows as { reg: string | null }[])[0]?.reg) return;
      const range = `'${iso(from)}' AND created_at < '${iso(to)}'`;
      await sequelize.query(
        `CREATE TABLE ${name} (LIKE analytics_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
         INSERT INTO ${name} SELECT * FROM analytics_usage_default WHERE created_at >= ${range};
         DELETE FROM analytics_usage_default WHERE created_at >= ${range};
         ALTER TABLE analytics_usage ATTACH PARTITION ${name} FOR VALUES FROM ('${iso(from)}') TO ('${iso(to)}');`,
        { transaction },
      );
      created.push(name);
    });
  }
  return created;
}
