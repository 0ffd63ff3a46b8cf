// Feature registration for mcp: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
