// Bounded-rate delivery of a value that keeps changing (a reply being edited in place): only the latest
// value is sent, at most once per interval, never two calls at once.

/** Calls `send` with the latest value at most every `intervalMs`, one call at a time; `settle` stops it. */
export function throttled<T>(intervalMs: number, send: (value: T) => Promise<void>) {
  let latest: { value: T } | undefined;
  let lastSent = 0;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    timer = undefined;
    if (inFlight || !latest) return;
    const { value } = latest;
    latest = undefined;
    lastSent = Date.now();
    inFlight = send(value).finally(() => {
      inFlight = undefined;
      if (latest) schedule();
    });
  };
  const schedule = () => {
    if (timer || inFlight) return;
    timer = setTimeout(fire, Math.max(0, lastSent + intervalMs - Date.now()));
  };
  return {
    push(value: T) {
      latest = { value };
      schedule();
    },
    /** Drop pending progress, wait for the call in flight. */
    async settle() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      latest = undefined;
      await inFlight?.catch(() => {});
    },
  };
}
