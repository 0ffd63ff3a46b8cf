// Reads the seed schema (fixtures/seed-schema.sql: sections 2 and 4.2 of the seed, verbatim) into
// expectations the migrations test compares with the migrated database's catalogue.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const FIXTURE = path.join(here, 'fixtures/seed-schema.sql');

export interface SeedColumn {
  table: string;
  name: string;
  /** The seed's type as written, upper-cased: VARCHAR(255), DECIMAL(10, 2), tenant_tier… */
  type: string;
  notNull: boolean;
  primaryKey: boolean;
  unique: boolean;
  /** The DEFAULT expression as written, or null. */
  default: string | null;
  references?: { table: string; column: string; onDelete: string };
}

export interface SeedIndex {
  section: '2' | '4.2';
  name: string;
  table: string;
  method: string;
  columns: string;
  where: string | null;
}

export interface SeedSchema {
  enums: Map<string, string[]>;
  tables: Map<string, SeedColumn[]>;
  uniqueConstraints: { table: string; name: string; columns: string[] }[];
  indexes: SeedIndex[];
}

/** The seed's SQL (sections 2 and 4.2) from the fixture. */
export function loadSeedSql(): string {
  return fs.readFileSync(FIXTURE, 'utf8');
}

/** The original seed document (../shared/seeds/*.txt beside the repository), when present. */
export function findSeedDocument(): string | undefined {
  const dir = path.resolve(repoRoot, '../shared/seeds');
  if (!fs.existsSync(dir)) return undefined;
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()[0];
  return file ? fs.readFileSync(path.join(dir, file), 'utf8') : undefined;
}

/** Sections 2 and 4.2 of the seed document, in the fixture's layout (to check the fixture is faithful). */
export function sqlSectionsOf(seedDocument: string): { section2: string; section42: string } {
  const slice = (from: string, to: string) => {
    const i = seedDocument.indexOf(from);
    return seedDocument.slice(i, seedDocument.indexOf(to, i));
  };
  const blocks = (s: string) => [...s.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return { section2: blocks(slice('## 2. CORE SCHEMA', '## 3. ')).join('\n'), section42: blocks(slice('### 4.2', '### 4.3')).join('\n') };
}

export function fixtureSections(sql: string): { section2: string; section42: string } {
  const a = sql.indexOf('-- @section 2\n');
  const b = sql.indexOf('-- @section 4.2\n');
  return { section2: sql.slice(a + '-- @section 2\n'.length, b).replace(/\n$/, ''), section42: sql.slice(b + '-- @section 4.2\n'.length) };
}

const statements = (sql: string) =>
  sql
    .replace(/--.*$/gm, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

/** Split on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseIndex(stmt: string, section: SeedIndex['section']): SeedIndex | undefined {
  const m = stmt.match(/^CREATE INDEX (\w+) ON (\w+)\s*(?:USING (\w+))?\s*\((.+?)\)(?: WHERE (.+))?$/i);
  if (!m) return undefined;
  return { section, name: m[1]!, table: m[2]!, method: (m[3] ?? 'btree').toLowerCase(), columns: m[4]!, where: m[5] ?? null };
}

export function parseSeed(sql: string): SeedSchema {
  const { section2, section42 } = fixtureSections(sql);
  const schema: SeedSchema = { enums: new Map(), tables: new Map(), uniqueConstraints: [], indexes: [] };
  for (const stmt of statements(section2)) {
    let m: RegExpMatchArray | null;
    if ((m = stmt.match(/^CREATE TYPE (\w+) AS ENUM \((.*)\)$/i))) {
      schema.enums.set(m[1]!, [...m[2]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!));
    } else if ((m = stmt.match(/^CREATE TABLE (\w+) \((.*)\)$/i))) {
      const table = m[1]!;
      const columns: SeedColumn[] = [];
      for (const item of splitTopLevel(m[2]!)) {
        const c = item.match(/^CONSTRAINT (\w+) UNIQUE\s*\(([^)]*)\)$/i);
        if (c) {
          schema.uniqueConstraints.push({ table, name: c[1]!, columns: c[2]!.split(',').map((s) => s.trim()) });
          continue;
        }
        const col = item.match(/^(\w+) ((?:VARCHAR|DECIMAL)\s*\([^)]*\)|\w+)(.*)$/i);
        if (!col) throw new Error(`cannot parse column of ${table}: ${item}`);
        const rest = col[3]!;
        const ref = rest.match(/REFERENCES (\w+)\((\w+)\)(?: ON DELETE (CASCADE|SET NULL|PROTECT|RESTRICT|NO ACTION))?/i);
        const def = rest.match(/DEFAULT ('[^']*'|\w+\(\)|[\w.-]+)/i);
        columns.push({
          table,
          name: col[1]!,
          type: col[2]!,
          notNull: /NOT NULL|PRIMARY KEY/i.test(rest),
          primaryKey: /PRIMARY KEY/i.test(rest),
          unique: /\bUNIQUE\b/i.test(rest),
          default: def ? def[1]! : null,
          references: ref ? { table: ref[1]!, column: ref[2]!, onDelete: (ref[3] ?? 'NO ACTION').toUpperCase() } : undefined,
        });
      }
      schema.tables.set(table, columns);
    } else if (/^CREATE INDEX/i.test(stmt)) {
      const idx = parseIndex(stmt, '2');
      if (!idx) throw new Error(`cannot parse index: ${stmt}`);
      schema.indexes.push(idx);
    }
  }
  for (const stmt of statements(section42)) {
    const idx = parseIndex(stmt, '4.2');
    if (!idx) throw new Error(`cannot parse index: ${stmt}`);
    schema.indexes.push(idx);
  }
  return schema;
}

/** information_schema's view of a seed type. */
export function expectedType(type: string, enums: Map<string, string[]>): { data_type: string; udt_name?: string; length?: number; precision?: number; scale?: number } {
  const t = type.toUpperCase().replace(/\s+/g, '');
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^VARCHAR\((\d+)\)$/))) return { data_type: 'character varying', length: Number(m[1]) };
  if ((m = t.match(/^DECIMAL\((\d+),(\d+)\)$/))) return { data_type: 'numeric', precision: Number(m[1]), scale: Number(m[2]) };
  const simple: Record<string, string> = {
    UUID: 'uuid',
    TEXT: 'text',
    INTEGER: 'integer',
    BIGINT: 'bigint',
    BIGSERIAL: 'bigint',
    BOOLEAN: 'boolean',
    TIMESTAMP: 'timestamp without time zone',
    JSONB: 'jsonb',
    FLOAT: 'double precision',
    INET: 'inet',
  };
  if (simple[t]) return { data_type: simple[t]! };
  const enumName = type.toLowerCase();
  if (enums.has(enumName)) return { data_type: 'USER-DEFINED', udt_name: enumName };
  throw new Error(`unknown seed type ${type}`);
}

/** A column default with casts, quotes, case and spacing removed, so the seed's text and the catalogue's compare. */
export function normaliseDefault(d: string | null | undefined): string | null {
  if (d == null) return null;
  const v = d
    .replace(/::[a-z_ ]+(\[\])?/gi, '')
    .replace(/'/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  return /^-?\d+(\.\d+)?$/.test(v) ? String(Number(v)) : v;
}

/** An index as (table, method, columns, predicate), normalised; from the seed or from pg_indexes.indexdef. */
export function indexShape(idx: { table: string; method: string; columns: string; where: string | null }): string {
  const cols = idx.columns
    .split(',')
    .map((c) => c.trim().replace(/\s+/g, ' ').replace(/ ASC$/i, '').toLowerCase())
    .join(', ');
  const where = idx.where
    ? idx.where
        .replace(/::[a-z_ ]+/gi, '')
        .replace(/!=/g, '<>')
        .replace(/[()\s]/g, '')
        .toLowerCase()
    : '';
  return `${idx.table}|${idx.method.toLowerCase()}|${cols}|${where}`;
}

export function parseIndexDef(indexdef: string): { name: string; table: string; method: string; columns: string; where: string | null; unique: boolean } {
  const m = indexdef.match(/^CREATE (UNIQUE )?INDEX (\w+) ON (?:ONLY )?(?:\w+\.)?(\w+) USING (\w+) \((.+?)\)(?: WHERE (.+))?$/);
  if (!m) throw new Error(`cannot parse index definition: ${indexdef}`);
  return { unique: !!m[1], name: m[2]!, table: m[3]!, method: m[4]!, columns: m[5]!, where: m[6] ?? null };
}
