// Feature registration for billing: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
