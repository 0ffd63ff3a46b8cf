#!/usr/bin/env node
// `flowspark-mcp`: the FlowSpark MCP server over stdio (src/mcp/stdio.ts), run through tsx like the
// server itself. Configure it with the same environment as the server plus FLOWSPARK_API_KEY.
import { register } from 'tsx/esm/api';

register();
await import('../src/mcp/stdio.ts');
