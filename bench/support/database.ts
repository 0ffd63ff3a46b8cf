// The benchmarks' PostgreSQL database: created on the server if missing, with pgvector enabled.
import pg from 'pg';

export async function ensureBenchDatabase(target: string): Promise<void> {
  const name = decodeURIComponent(new URL(target).pathname.slice(1));
  const admin = new URL(target);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
  const bench = new pg.Client({ connectionString: target });
  await bench.connect();
  try {
    await bench.query('CREATE EXTENSION IF NOT EXISTS vector');
  } finally {
    await bench.end();
  }
}
