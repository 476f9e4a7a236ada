import { randomBytes } from '../../util/crypto.js';
import { SecretStore, type SecretRecord } from '../../store/secrets.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { secretEvent } from '../system/events.js';

/**
 * Secrets (podman's `secret` verbs, file driver): bytes kept in the store, outside every image,
 * that a container gets as a file mounted read-only (by default at /run/secrets/NAME) or as an
 * environment variable. See `containers/secrets.ts` for the container side.
 */

/** podman's limit: secret data must be larger than 0 and less than 512000 bytes. */
const MAX_SECRET_BYTES = 512_000;

export function validateSecretName(name: string): string {
  if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/.test(name)) {
    throw new BerthError(
      'USAGE',
      `only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]: ${name}: invalid secret name`,
    );
  }
  return name;
}

const unknown = (nameOrId: string) => new BerthError('SECRET_UNKNOWN', `no secret with name or id "${nameOrId}": no such secret`);

/** By name, by ID, or by a prefix of exactly one ID (podman's lookup). */
export function findSecret(secrets: readonly SecretRecord[], nameOrId: string): SecretRecord | undefined {
  const exact = secrets.find((s) => s.name === nameOrId || s.id === nameOrId);
  if (exact || nameOrId === '') return exact;
  const byPrefix = secrets.filter((s) => s.id.startsWith(nameOrId));
  if (byPrefix.length > 1) throw new BerthError('SECRET_UNKNOWN', `more than one secret matches "${nameOrId}": use the full ID`);
  return byPrefix[0];
}

export async function getSecret(store: Store, nameOrId: string): Promise<SecretRecord> {
  const found = findSecret(await new SecretStore(store).list(), nameOrId);
  if (!found) throw unknown(nameOrId);
  return found;
}

export function listSecrets(store: Store): Promise<SecretRecord[]> {
  return new SecretStore(store).list();
}

export function readSecretData(store: Store, s: SecretRecord): Promise<Buffer> {
  return new SecretStore(store).readData(s.id);
}

export interface CreateSecretOptions {
  labels?: Record<string, string>;
  driver?: string;
  /** Replace a secret of the same name instead of failing. */
  replace?: boolean;
}

/** `secret create`: the data first (under a fresh ID), then the record under the store lock. */
export async function createSecret(store: Store, name: string, data: Uint8Array, opts: CreateSecretOptions = {}): Promise<SecretRecord> {
  validateSecretName(name);
  const driver = opts.driver ?? 'file';
  if (driver !== 'file') throw new BerthError('USAGE', `secret driver "${driver}" is not supported: only file`);
  if (data.length === 0 || data.length >= MAX_SECRET_BYTES)
    throw new BerthError('USAGE', `secret data must be larger than 0 and less than ${MAX_SECRET_BYTES} bytes`);
  const secrets = new SecretStore(store);
  const id = randomBytes(13).toString('hex').slice(0, 25);
  await secrets.writeData(id, data);
  let replaced: SecretRecord | undefined;
  try {
    const record = await secrets.update((all) => {
      const i = all.findIndex((s) => s.name === name);
      if (i >= 0 && !opts.replace) throw new BerthError('SECRET_EXISTS', `${name}: secret name in use`);
      const now = new Date().toISOString();
      const made: SecretRecord = { id, name, driver: 'file', labels: opts.labels ?? {}, created: i >= 0 ? all[i]!.created : now, updated: now };
      if (i >= 0) replaced = all.splice(i, 1, made)[0];
      else all.push(made);
      return made;
    });
    if (replaced) await secrets.removeData(replaced.id);
    await secretEvent(store, 'create', record.id, record.name);
    return record;
  } catch (e) {
    await secrets.removeData(id);
    throw e;
  }
}

/** `secret rm`: the records (under the lock), then their data. Returns the removed secrets; names not found are errors after the rest are gone. */
export async function removeSecrets(
  store: Store,
  namesOrIds: readonly string[],
  opts: { all?: boolean } = {},
): Promise<{ removed: SecretRecord[]; errors: BerthError[] }> {
  const secrets = new SecretStore(store);
  const errors: BerthError[] = [];
  const removed = await secrets.update((all) => {
    const doomed = opts.all ? [...all] : [];
    for (const n of opts.all ? [] : namesOrIds) {
      const s = findSecret(all, n);
      if (!s) errors.push(unknown(n));
      else if (!doomed.includes(s)) doomed.push(s);
    }
    all.splice(0, all.length, ...all.filter((s) => !doomed.includes(s)));
    return doomed;
  });
  for (const s of removed) {
    await secrets.removeData(s.id);
    await secretEvent(store, 'remove', s.id, s.name);
  }
  return { removed, errors };
}

/** podman's `secret inspect` shape (with the data only when asked, as `--showsecret`). */
export function inspectSecret(store: Store, s: SecretRecord, data?: Buffer) {
  return {
    ID: s.id,
    CreatedAt: s.created,
    UpdatedAt: s.updated,
    Spec: {
      Name: s.name,
      Driver: { Name: s.driver, Options: { path: new SecretStore(store).dir } },
      Labels: s.labels,
    },
    ...(data ? { SecretData: data.toString('utf8') } : {}),
  };
}
