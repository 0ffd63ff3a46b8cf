// The Microsoft Teams channel: its routes, and the shared channel upkeep.
import { registerRoutes } from '../../http/app.js';
import '../shared/feature.js';
import { teamsRoutes } from './routes.js';

registerRoutes(teamsRoutes);
