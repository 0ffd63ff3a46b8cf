// Feature registration for channels: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
