// Per worker: point the app's configuration at the shared test database before any test imports it.
import { inject } from 'vitest';

process.env.DATABASE_URL = inject('databaseUrl');
process.env.TEST_EMBEDDED = inject('embedded') ? '1' : '';
