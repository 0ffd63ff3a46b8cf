// A worker process the crash test kills mid-document: it claims one document of TENANT_ID with a short
// lease and ingests it one chunk per embedding call, through the embedding provider the test controls.
import { loadConfig, setConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/index.js';
import { processNextKbDocument } from '../../src/kb/worker.js';

const cfg = loadConfig(process.env);
setConfig(cfg);
await openDatabase(cfg, { migrate: false });
process.stdout.write('CLAIMING\n');
await processNextKbDocument({ tenantId: process.env.TENANT_ID!, leaseSeconds: Number(process.env.LEASE_SECONDS ?? 2), embedBatchSize: 1 });
process.stdout.write('FINISHED\n'); // never reached: the test kills the process first
