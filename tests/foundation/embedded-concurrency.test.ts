// The embedded engine serves many pooled connections over one PGlite session. Parameterised queries
// (extended protocol) from different connections must not interleave, and transactions must stay whole.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';

let engine: EmbeddedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  engine = await startEmbeddedDatabase({ dataDir: 'memory://', maxConnections: 12 });
  pool = new pg.Pool({ connectionString: engine.url, max: 10 });
  await pool.query('CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL)');
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await engine?.stop();
});

describe('embedded engine under concurrent pooled connections', () => {
  it('runs 300 concurrent parameterised statements and transactions without losing one', async () => {
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        try {
          if (i % 5 === 0) {
            const c = await pool.connect();
            try {
              await c.query('BEGIN');
              await c.query('INSERT INTO t (v) VALUES ($1)', [`tx${i}`]);
              const r = await c.query('SELECT count(*)::int AS n FROM t WHERE v = $1', [`tx${i}`]);
              expect(r.rows[0].n).toBe(1);
              await c.query('COMMIT');
            } finally {
              c.release();
            }
          } else {
            await pool.query('INSERT INTO t (v) VALUES ($1)', [`v${i}`]);
            const r = await pool.query('SELECT v FROM t WHERE v = $1', [`v${i}`]);
            expect(r.rows).toEqual([{ v: `v${i}` }]);
          }
        } catch (e) {
          failures.push(String(e));
        }
      }),
    );
    expect(failures).toEqual([]);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM t');
    expect(rows[0].n).toBe(300);
  });

  it('keeps serving after a statement fails', async () => {
    await expect(pool.query('SELECT * FROM no_such_table WHERE x = $1', [1])).rejects.toThrow(/no_such_table/);
    const { rows } = await pool.query('SELECT $1::int AS one', [1]);
    expect(rows[0].one).toBe(1);
  });
});
