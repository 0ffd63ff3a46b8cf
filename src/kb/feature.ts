// Feature registration for kb: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
