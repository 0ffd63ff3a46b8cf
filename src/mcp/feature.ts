// Feature registration for mcp: the /mcp Streamable HTTP endpoint and its protected-resource metadata.
// The stdio entry (src/mcp/stdio.ts, `npm run mcp:stdio`, bin `flowspark-mcp`) serves the same server.
import { registerRoutes } from '../http/app.js';
import { attach } from '../server.js';
import { closeMcpHttp, mcpRoutes } from './http.js';
import { flushMetering } from './metering.js';

registerRoutes(mcpRoutes);
attach(async () => async () => {
  await closeMcpHttp();
  await flushMetering();
});
