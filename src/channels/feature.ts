// Feature registration for channels: routes (registerRoutes), tools (registerTools), workers (attach).
export {};
import './slack/feature.js';
import './teams/feature.js';
import './widget/index.js';
import './web/index.js';
