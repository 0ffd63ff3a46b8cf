// The Slack channel: its routes, and the shared channel upkeep.
import { registerRoutes } from '../../http/app.js';
import '../shared/feature.js';
import { slackRoutes } from './routes.js';

registerRoutes(slackRoutes);
