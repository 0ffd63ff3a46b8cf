// Feature modules register their routes, realtime handlers and workers when imported.
export {};
