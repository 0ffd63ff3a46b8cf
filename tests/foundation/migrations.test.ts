// Migrations on a FRESH database of the engine under test (a new in-memory embedded engine, or a
// scratch database on the real server): up, compared with the seed schema (every enum, table, column,
// key and index of sections 2 and 4.2, plus the product's extensions); 0002 down and up with data in
// analytics_usage; everything down to an empty schema; and up again.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { QueryTypes, type Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createMigrator } from '../../src/db/migrate.js';
import { ensureAnalyticsPartitions } from '../../src/db/partitions.js';
import { createSequelize } from '../../src/db/sequelize.js';
import {
  expectedType,
  findSeedDocument,
  fixtureSections,
  indexShape,
  loadSeedSql,
  normaliseDefault,
  parseIndexDef,
  parseSeed,
  sqlSectionsOf,
} from './seed-schema.js';

const seedSql = loadSeedSql();
const seed = parseSeed(seedSql);
const seedDocument = findSeedDocument();

// Where the product deliberately differs from the seed (docs/schema.md says why).
const NOT_NULL_DEVIATIONS = new Set([
  // analytics_usage is range-partitioned on created_at; a partition key in the primary key must be NOT NULL.
  'analytics_usage.created_at',
]);
const PRIMARY_KEY_DEVIATIONS: Record<string, string[]> = { analytics_usage: ['id', 'created_at'] };
// Section 4.2 indexes that repeat a section 2 index under another name (one index is enough).
const EXPECTED_TWINS = ['idx_audit_tenant_time', 'idx_kb_tags', 'idx_kb_tenant_status', 'idx_query_user_date', 'idx_usage_tenant_time'];
const DELETE_RULES: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

const embeddedEngine = process.env.TEST_EMBEDDED === '1';
let embedded: EmbeddedDatabase | undefined;
let sequelize: Sequelize;
let scratch: { adminUrl: string; name: string } | undefined;
let migrator: ReturnType<typeof createMigrator>;

const q = <T extends object = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}) =>
  sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: scratch!.adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  let url: string;
  if (embeddedEngine) {
    embedded = await startEmbeddedDatabase({ dataDir: 'memory://', maxConnections: 4 });
    url = embedded.url;
  } else {
    const base = new URL(process.env.DATABASE_URL!);
    const admin = new URL(base);
    admin.pathname = '/postgres';
    scratch = { adminUrl: admin.toString(), name: `flowspark_migtest_${randomBytes(6).toString('hex')}` };
    await adminQuery(`CREATE DATABASE "${scratch.name}"`);
    base.pathname = `/${scratch.name}`;
    url = base.toString();
  }
  sequelize = createSequelize({ url, poolMax: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000, embedded: embeddedEngine });
  migrator = createMigrator(sequelize, { embeddingDimensions: 384 });
});

afterAll(async () => {
  await sequelize?.close();
  await embedded?.stop();
  if (scratch) await adminQuery(`DROP DATABASE IF EXISTS "${scratch.name}" WITH (FORCE)`);
});

describe('the seed fixture', () => {
  it('parses into the seed’s 18 tables, 10 enums and the indexes of sections 2 and 4.2', () => {
    expect(seed.tables.size).toBe(18);
    expect(seed.enums.size).toBe(10);
    expect(seed.indexes.filter((i) => i.section === '4.2')).toHaveLength(8);
    expect(seed.indexes.filter((i) => i.section === '2')).toHaveLength(37);
  });

  it.skipIf(!seedDocument)('is the seed document’s SQL, verbatim', () => {
    expect(fixtureSections(seedSql)).toEqual(sqlSectionsOf(seedDocument!));
  });
});

describe.sequential('migrations on a fresh database', () => {
  it('apply in order and are recorded in schema_migrations', async () => {
    const applied = await migrator.up();
    const names = applied.map((m) => m.name);
    expect(names.slice(0, 3)).toEqual(['0001_seed_schema', '0002_product_extensions', '0003_seed_plans']);
    expect(names).toEqual([...names].sort());
    expect(await migrator.pending()).toEqual([]);
    const recorded = await q<{ name: string }>(`SELECT name FROM schema_migrations ORDER BY name`);
    expect(recorded.map((r) => r.name)).toEqual(names);
  });

  it('create every seed enum with exactly its labels, in order', async () => {
    const actual = await q<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname`,
    );
    const byName = new Map(actual.map((r) => [r.typname, r.labels]));
    for (const [name, labels] of seed.enums) expect(byName.get(name), name).toEqual(labels);
  });

  it('create all 18 seed tables, every column with the seed’s type, nullability and default', async () => {
    const tables = await q<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    const present = new Set(tables.map((t) => t.tablename));
    for (const table of seed.tables.keys()) expect(present.has(table), table).toBe(true);

    const cols = await q<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
      column_default: string | null;
      character_maximum_length: number | null;
      numeric_precision: number | null;
      numeric_scale: number | null;
    }>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN (:tables)`,
      { tables: [...seed.tables.keys()] },
    );
    const actual = new Map(cols.map((c) => [`${c.table_name}.${c.column_name}`, c]));
    let checked = 0;
    for (const [table, columns] of seed.tables) {
      for (const col of columns) {
        const key = `${table}.${col.name}`;
        const a = actual.get(key);
        expect(a, `${key} exists`).toBeDefined();
        const want = expectedType(col.type, seed.enums);
        expect(a!.data_type, `${key} type`).toBe(want.data_type);
        if (want.udt_name) expect(a!.udt_name, `${key} enum`).toBe(want.udt_name);
        if (want.length) expect(a!.character_maximum_length, `${key} length`).toBe(want.length);
        if (want.precision) expect([a!.numeric_precision, a!.numeric_scale], `${key} precision`).toEqual([want.precision, want.scale]);
        const notNull = col.notNull || NOT_NULL_DEVIATIONS.has(key);
        expect(a!.is_nullable, `${key} nullability`).toBe(notNull ? 'NO' : 'YES');
        const wantDefault = col.type.toUpperCase() === 'BIGSERIAL' ? `nextval(${table}_${col.name}_seq)` : normaliseDefault(col.default);
        expect(normaliseDefault(a!.column_default), `${key} default`).toBe(wantDefault);
        checked++;
      }
    }
    expect(checked).toBe(199);
  });

  it('keep the seed’s primary keys, unique constraints and foreign keys (ON DELETE PROTECT as RESTRICT)', async () => {
    const constraints = await q<{ table_name: string; conname: string; contype: string; confdeltype: string; cols: string[]; ref_table: string | null; ref_cols: string[] | null }>(
      `SELECT c.conrelid::regclass::text AS table_name, c.conname, c.contype::text AS contype, c.confdeltype::text AS confdeltype,
              ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
              CASE WHEN c.confrelid <> 0 THEN c.confrelid::regclass::text END AS ref_table,
              ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS ref_cols
         FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')`,
    );
    const of = (table: string, type: string) => constraints.filter((c) => c.table_name === table && c.contype === type);
    for (const [table, columns] of seed.tables) {
      const pk = of(table, 'p');
      expect(pk, `${table} primary key`).toHaveLength(1);
      expect(pk[0]!.cols, `${table} primary key`).toEqual(PRIMARY_KEY_DEVIATIONS[table] ?? columns.filter((c) => c.primaryKey).map((c) => c.name));
      for (const col of columns) {
        if (col.unique) expect(of(table, 'u').some((u) => u.cols.join() === col.name), `${table}.${col.name} unique`).toBe(true);
        if (!col.references) continue;
        const fk = of(table, 'f').filter((f) => f.cols.join() === col.name);
        expect(fk, `${table}.${col.name} foreign key`).toHaveLength(1);
        expect(fk[0]!.ref_table).toBe(col.references.table);
        expect(fk[0]!.ref_cols).toEqual([col.references.column]);
        const rule = col.references.onDelete === 'PROTECT' ? 'RESTRICT' : col.references.onDelete;
        expect(DELETE_RULES[fk[0]!.confdeltype], `${table}.${col.name} ON DELETE`).toBe(rule);
      }
    }
    for (const u of seed.uniqueConstraints) {
      const found = of(u.table, 'u').find((c) => c.conname === u.name);
      expect(found?.cols, `${u.table}.${u.name}`).toEqual(u.columns);
    }
    expect(seed.tables.get('billing_subscription')!.find((c) => c.name === 'plan_id')!.references!.onDelete).toBe('PROTECT');
  });

  it('create every index of sections 2 and 4.2; 4.2’s repeats are satisfied by their section 2 twins', async () => {
    const defs = await q<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const byName = new Map(defs.map((d) => [d.indexname, parseIndexDef(d.indexdef)]));
    const section2 = seed.indexes.filter((i) => i.section === '2');
    for (const idx of section2) {
      const actual = byName.get(idx.name);
      expect(actual, idx.name).toBeDefined();
      expect(indexShape(actual!), idx.name).toBe(indexShape(idx));
    }
    const twins: string[] = [];
    for (const idx of seed.indexes.filter((i) => i.section === '4.2')) {
      const actual = byName.get(idx.name);
      if (actual) {
        expect(indexShape(actual), idx.name).toBe(indexShape(idx));
        continue;
      }
      const twin = section2.find((s) => indexShape(s) === indexShape(idx));
      expect(twin, `${idx.name} exists or repeats a section 2 index`).toBeDefined();
      expect(indexShape(byName.get(twin!.name)!), `${idx.name} ≡ ${twin!.name}`).toBe(indexShape(idx));
      twins.push(idx.name);
    }
    expect(twins.sort()).toEqual(EXPECTED_TWINS);

    // The partial index differs from its section 2 neighbour and exists in its own right.
    const docStatus = byName.get('idx_doc_status')!;
    expect(docStatus.where).toMatch(/status <> 'completed'/);
    expect(indexShape(docStatus)).not.toBe(indexShape(byName.get('idx_document_status')!));
  });

  it('add pgvector, kb_chunk’s embedding (HNSW), tenant_id and full-text tsvector (GIN), and partition analytics_usage by month', async () => {
    expect(await q(`SELECT extname FROM pg_extension WHERE extname = 'vector'`)).toHaveLength(1);

    const chunkCols = await q<{ attname: string; type: string; notnull: boolean; generated: string }>(
      `SELECT attname::text, format_type(atttypid, atttypmod) AS type, attnotnull AS notnull, attgenerated::text AS generated
         FROM pg_attribute WHERE attrelid = 'kb_chunk'::regclass AND attnum > 0 AND NOT attisdropped`,
    );
    const col = (n: string) => chunkCols.find((c) => c.attname === n);
    expect(col('embedding')).toMatchObject({ type: 'vector(384)', notnull: false });
    expect(col('tenant_id')).toMatchObject({ type: 'uuid', notnull: true });
    expect(col('search_vector')).toMatchObject({ type: 'tsvector', generated: 's' });

    const chunkIndexes = (await q<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'kb_chunk'`)).map((r) => parseIndexDef(r.indexdef));
    expect(chunkIndexes.some((i) => i.method === 'hnsw' && i.columns === 'embedding vector_cosine_ops')).toBe(true);
    expect(chunkIndexes.some((i) => i.method === 'gin' && i.columns === 'search_vector')).toBe(true);
    expect(chunkIndexes.some((i) => i.method === 'btree' && i.columns === 'tenant_id')).toBe(true);

    const part = await q<{ strategy: string; key: string }>(
      `SELECT p.partstrat::text AS strategy, pg_get_partkeydef(p.partrelid) AS key FROM pg_partitioned_table p WHERE p.partrelid = 'analytics_usage'::regclass`,
    );
    expect(part).toEqual([{ strategy: 'r', key: 'RANGE (created_at)' }]);
    const defaultPartition = await q(
      `SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'analytics_usage'::regclass AND c.relname = 'analytics_usage_default' AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`,
    );
    expect(defaultPartition).toHaveLength(1);

    for (const table of ['auth_session', 'auth_api_key', 'agents_conversation'])
      expect(await q(`SELECT to_regclass(:table)::text AS t`, { table }), table).toEqual([{ t: table }]);
    expect(await q(`SELECT 1 FROM information_schema.columns WHERE table_name = 'agents_interaction' AND column_name = 'conversation_id'`)).toHaveLength(1);
  });

  it('roll 0002 back and forth (partitioned ↔ plain analytics_usage) without losing usage rows', async () => {
    const [tenant] = await q<{ id: string }>(`INSERT INTO core_tenant (name, slug) VALUES ('Survivor', 'survivor') RETURNING id`);
    await ensureAnalyticsPartitions(sequelize, new Date(Date.UTC(2024, 2, 10)));
    const inserted = await q<{ id: string }>(
      `INSERT INTO analytics_usage (tenant_id, activity_type, tokens_used, metadata, created_at) VALUES
         (:t, 'kb_query', 42, '{"k": 1}', '2024-03-15 12:00:00'),
         (:t, 'document_generated', 7, '{}', '2031-07-01 00:00:00') RETURNING id`,
      { t: tenant!.id },
    );
    expect((await q(`SELECT tableoid::regclass::text AS p FROM analytics_usage ORDER BY created_at`)).map((r) => r.p)).toEqual([
      'analytics_usage_2024_03',
      'analytics_usage_default',
    ]);
    const usage = () =>
      q(`SELECT id, tenant_id, activity_type, tokens_used, metadata, created_at FROM analytics_usage ORDER BY created_at`).then((r) =>
        r.map((x): Record<string, any> => ({ ...x, created_at: new Date(x.created_at).toISOString() })),
      );
    const before = await usage();
    expect(before.map((r) => r.id).sort()).toEqual(inserted.map((r) => r.id).sort());
    expect(before[0]).toMatchObject({ activity_type: 'kb_query', tokens_used: 42, metadata: { k: 1 }, created_at: '2024-03-15T12:00:00.000Z' });

    const primaryKey = () => q(`SELECT conname FROM pg_constraint WHERE conrelid = 'analytics_usage'::regclass AND contype = 'p'`);
    await migrator.down({ to: '0002_product_extensions' });
    expect(await q(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'analytics_usage'::regclass`)).toEqual([{ k: 'r' }]);
    // The seed's names come back, so the next up (which renames them) works again.
    expect(await primaryKey()).toEqual([{ conname: 'analytics_usage_pkey' }]);
    expect(await q(`SELECT to_regclass('analytics_usage_2024_03')::text AS t, to_regclass('auth_session')::text AS s`)).toEqual([{ t: null, s: null }]);
    expect(await usage()).toEqual(before);

    await migrator.up();
    expect(await q(`SELECT relkind::text AS k FROM pg_class WHERE oid = 'analytics_usage'::regclass`)).toEqual([{ k: 'p' }]);
    expect(await primaryKey()).toEqual([{ conname: 'analytics_usage_pkey' }]);
    expect(await usage()).toEqual(before);
  });

  it('roll everything back to an empty schema, then up again', async () => {
    await migrator.down({ to: 0 });
    expect(await migrator.executed()).toEqual([]);
    const tables = await q<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables.map((t) => t.tablename)).toEqual(['schema_migrations']);
    expect(await q(`SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'`)).toEqual([]);
    expect(await q(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'`)).toEqual([]);

    const again = await migrator.up();
    expect(again.map((m) => m.name).slice(0, 3)).toEqual(['0001_seed_schema', '0002_product_extensions', '0003_seed_plans']);
    const present = new Set((await q<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map((t) => t.tablename));
    for (const table of seed.tables.keys()) expect(present.has(table), table).toBe(true);
    expect((await q(`SELECT slug FROM billing_plan ORDER BY price_monthly`)).map((p) => p.slug)).toEqual(['free', 'standard', 'professional', 'enterprise']);
  });
});
