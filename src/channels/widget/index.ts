// The web widget channel: its routes, its token kind, and the origin checks on HTTP and Socket.IO.
// Imported once by src/channels/feature.ts.
import { addTokenAuthenticator } from '../../auth/authenticate.js';
import { registerMiddleware, registerRoutes } from '../../http/app.js';
import { log } from '../../log.js';
import { addHandshakeCheck } from '../../realtime/index.js';
import { attach } from '../../server.js';
import { widgetBundle } from './bundle.js';
import { widgetCors, widgetHandshakeCheck } from './origin.js';
import { widgetRoutes } from './routes.js';
import { authenticateWidgetToken, WIDGET_TOKEN_PREFIX } from './tokens.js';

addTokenAuthenticator(WIDGET_TOKEN_PREFIX, authenticateWidgetToken);
registerMiddleware('/api/*', widgetCors);
registerRoutes(widgetRoutes);
addHandshakeCheck(widgetHandshakeCheck);
attach(async () => {
  widgetBundle().catch((err) => log.error({ err }, 'building /widget.js failed'));
  return async () => {};
});
