// Started with the server for both chat platforms: old processed-event ids are pruned every hour, and
// on shutdown the replies still being written get a few seconds to finish.
import { log } from '../../log.js';
import { attach } from '../../server.js';
import { backgroundIdle } from './background.js';
import { pruneProcessedEvents } from './processed-events.js';

attach(async () => {
  const prune = () => pruneProcessedEvents().catch((err) => log.warn({ err }, 'pruning channel event ids failed'));
  const timer = setInterval(prune, 3_600_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await backgroundIdle(10_000);
  };
});
