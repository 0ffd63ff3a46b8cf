// File storage behind one interface. Default: a local directory under DATA_DIR/files. Keys are
// tenant-prefixed paths (`<tenantId>/documents/<id>/v1.pdf`) built by the callers; the storage itself
// refuses keys that would escape its root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { config } from '../config.js';

export interface Storage {
  put(key: string, data: Buffer): Promise<{ key: string; size: number }>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export class LocalStorage implements Storage {
  constructor(private root: string) {}

  private resolve(key: string): string {
    if (!/^[\w.\-/]+$/.test(key) || key.split('/').some((s) => s === '..' || s === '')) throw new Error(`invalid storage key: ${key}`);
    const full = path.resolve(this.root, key);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`invalid storage key: ${key}`);
    return full;
  }

  async put(key: string, data: Buffer) {
    const file = this.resolve(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
    return { key, size: data.length };
  }

  get(key: string) {
    return fs.readFile(this.resolve(key));
  }

  async delete(key: string) {
    await fs.rm(this.resolve(key), { force: true });
  }

  async exists(key: string) {
    return fs.access(this.resolve(key)).then(
      () => true,
      () => false,
    );
  }
}

let current: { root: string; storage: Storage } | undefined;

export function storage(): Storage {
  const root = path.join(config().dataDir, 'files');
  if (current?.root !== root) current = { root, storage: new LocalStorage(root) };
  return current.storage;
}
