// Parts that attach to the running server (Socket.IO, workers) register here; main.ts and the test
// harness import this module once.
import { attachRealtime } from './realtime/index.js';
import { attach } from './server.js';

attach(({ server, config, cache }) => attachRealtime(server, config, cache));
