// Feature registration for billing and analytics: the REST routes, the billing tools, and (with
// RUN_WORKERS) an hourly roll-over of ended free periods — quota checks also do it lazily per tenant.
import { registerRoutes } from '../http/app.js';
import { analyticsRoutes } from '../http/routes/analytics.js';
import { billingRoutes } from '../http/routes/billing.js';
import { log } from '../log.js';
import { attach } from '../server.js';
import { billingTools } from '../tools/billing.js';
import { registerTools } from '../tools/index.js';
import { rollOverPeriods } from './subscriptions.js';

registerRoutes(billingRoutes);
registerRoutes(analyticsRoutes);
registerTools(...billingTools);

const HOUR = 3_600_000;

attach(async ({ config }) => {
  if (!config.RUN_WORKERS) return async () => {};
  const run = () =>
    rollOverPeriods()
      .then((n) => n && log.info({ rolledOver: n }, 'billing periods rolled over'))
      .catch((err) => log.warn({ err }, 'billing period roll-over failed'));
  const timer = setInterval(run, HOUR);
  timer.unref();
  return async () => clearInterval(timer);
});
