// In-process domain events (low balance, document ready, ingestion done...). The realtime layer
// forwards the ones users should see; with several instances each forwards what it produced, and the
// Socket.IO Redis adapter delivers it to the user's sockets wherever they are.
import { EventEmitter } from 'node:events';

export interface DomainEvents {
  'billing.low_balance': { tenantId: string; balance: number; threshold: number };
  'kb.document.updated': { tenantId: string; userId: string; documentId: string; status: string };
  'document.updated': { tenantId: string; userId: string; documentId: string; status: string };
}

const emitter = new EventEmitter();
emitter.setMaxListeners(100);

export function emit<K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]): void {
  emitter.emit(name, payload);
}

export function on<K extends keyof DomainEvents>(name: K, fn: (p: DomainEvents[K]) => void): () => void {
  emitter.on(name, fn);
  return () => emitter.off(name, fn);
}
