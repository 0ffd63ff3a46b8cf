// Cancellation for 2025-era HTTP clients. Those are served statelessly: every POST gets a fresh server
// instance, so the `notifications/cancelled` a client sends arrives at an instance that never saw the
// call. The route hands such notifications here, and the in-flight call registered under the same
// credential and JSON-RPC id is aborted. (2026-07-28 clients cancel by closing the request, which
// aborts the call's signal directly; stdio keeps one instance per connection and needs none of this.)
//
// JSON-RPC ids are only unique per client, and one API key may drive several clients at once: when two
// in-flight calls share credential and id, the notification is ambiguous and nothing is aborted.
// In-process only: with several instances behind a balancer, a cancel that lands on another instance
// is ignored (the call runs to completion and is metered as usual).
export class CancellationRegistry {
  private inflight = new Map<string, Set<AbortController>>();

  private key(credential: string, requestId: string | number) {
    return `${credential}\u0000${typeof requestId}:${requestId}`;
  }

  /** Track a call; returns its signal and the function to call when it ends. */
  track(credential: string, requestId: string | number): { signal: AbortSignal; done(): void } {
    const key = this.key(credential, requestId);
    const controller = new AbortController();
    let set = this.inflight.get(key);
    if (!set) this.inflight.set(key, (set = new Set()));
    set.add(controller);
    return {
      signal: controller.signal,
      done: () => {
        set.delete(controller);
        if (set.size === 0 && this.inflight.get(key) === set) this.inflight.delete(key);
      },
    };
  }

  /** Abort the call a cancellation names; false when there is none or it is ambiguous. */
  cancel(credential: string, requestId: string | number, reason?: string): boolean {
    const set = this.inflight.get(this.key(credential, requestId));
    if (!set || set.size !== 1) return false;
    const [controller] = set;
    controller!.abort(reason ?? 'cancelled by the client');
    return true;
  }

  get size() {
    return this.inflight.size;
  }
}
