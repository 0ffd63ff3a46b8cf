// Feature modules register their routes (registerRoutes), tools (registerTools) and attachments
// (Socket.IO, workers: attach) when imported. main.ts and the test harness import this module once,
// before the app is created.
import { attachRealtime } from './realtime/index.js';
import { attach } from './server.js';
import './billing/feature.js';
import './documents/feature.js';
import './kb/feature.js';
import './mcp/feature.js';
import './channels/feature.js';

attach(({ server, config, cache }) => attachRealtime(server, config, cache));
