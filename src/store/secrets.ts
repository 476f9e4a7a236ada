import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { RecordFile } from './record-file.js';
import type { Store } from './store.js';

/** A secret of the file driver: its record here, its bytes in a 0600 file of their own. */
export interface SecretRecord {
  /** 25 hex digits, as podman makes them. */
  id: string;
  name: string;
  driver: 'file';
  labels: Record<string, string>;
  created: string;
  updated: string;
}

/**
 * Secrets in the store: `<root>/secrets/secrets.json` (the records, rewritten whole under the
 * store lock like images.json) and `<root>/secrets/data/<id>` (each secret's bytes, mode 0600 in a
 * 0700 directory). Never in a blob, a layer or an image.
 */
export class SecretStore {
  readonly dir: string;
  private readonly records: RecordFile<SecretRecord>;

  constructor(private readonly store: Store) {
    this.dir = join(store.root, 'secrets');
    this.records = new RecordFile<SecretRecord>(join(this.dir, 'secrets.json'), 'secrets');
  }

  list(): Promise<SecretRecord[]> {
    return this.records.read();
  }

  /** Read-modify-write of the records under the store lock. */
  async update<T>(fn: (secrets: SecretRecord[]) => Promise<T> | T): Promise<T> {
    await this.ensureDirs();
    return this.store.lock.with(async () => {
      const secrets = await this.records.read();
      const result = await fn(secrets);
      await this.records.write(secrets);
      return result;
    });
  }

  dataPath(id: string): string {
    return join(this.dir, 'data', id);
  }

  /** Written before its record exists, so a record never names missing data. */
  async writeData(id: string, data: Uint8Array): Promise<void> {
    await this.ensureDirs();
    await writeFileAtomic(this.dataPath(id), data, 0o600);
  }

  readData(id: string): Promise<Buffer> {
    return readFile(this.dataPath(id));
  }

  async removeData(id: string): Promise<void> {
    await rm(this.dataPath(id), { force: true });
  }

  private async ensureDirs(): Promise<void> {
    await mkdir(join(this.dir, 'data'), { recursive: true, mode: 0o700 });
  }
}

/** A secret a container was created with (`--secret`): resolved at create, copied into its bundle. */
export interface ContainerSecret {
  name: string;
  id: string;
  /** A file mounted read-only at `target`, or an environment variable named `target`. */
  type: 'mount' | 'env';
  target: string;
  mode: number;
  uid: number;
  gid: number;
}
