// Feature registration for documents: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
