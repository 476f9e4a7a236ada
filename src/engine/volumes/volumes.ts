import { randomBytes } from '../../util/crypto.js';
import { spawn } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord, StoredContainer } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import type { VolumeRecord } from '../../store/volumes.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { validateVolumeName } from '../containers/mount-spec.js';
import { volumeEvent } from '../system/events.js';

/**
 * Named volumes (the local driver): a directory in the store, recorded in volumes.json, that a
 * container mounts and that outlives it. podman's verbs: create, ls, inspect, rm, prune, exists.
 */

export const volumeDataDir = (store: Store, name: string) => join(store.volumeDir(name), '_data');

export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

/** Containers that mount the volume (any state: a stopped container still owns its volumes). */
export function volumeUsers<C extends Pick<ContainerRecord, 'id' | 'config'>>(containers: readonly C[], name: string): C[] {
  return containers.filter((c) => (c.config.mountSpecs ?? []).some((m) => m.type === 'volume' && m.name === name));
}

function newRecord(name: string, opts: { labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean }): VolumeRecord {
  return {
    name,
    created: new Date().toISOString(),
    labels: opts.labels ?? {},
    options: opts.options ?? {},
    anonymous: opts.anonymous ?? false,
    needsCopyUp: true,
  };
}

export interface CreateVolumeOptions {
  labels?: Record<string, string>;
  /** `-o` driver options; the local driver takes none that change anything here, they are kept for inspect. */
  options?: Record<string, string>;
  ignoreIfExists?: boolean;
  /** Docker's `volume create` without a name makes an anonymous volume (one that API 1.42's prune takes by default). */
  anonymous?: boolean;
}

export async function createVolume(store: Store, name: string | undefined, opts: CreateVolumeOptions = {}): Promise<VolumeRecord> {
  const volumeName = name === undefined ? anonymousVolumeName() : validateVolumeName(name);
  // The directory first: a record never names a volume whose directory is missing.
  await mkdir(volumeDataDir(store, volumeName), { recursive: true });
  let made = false;
  const volume = await store.updateVolumes((volumes) => {
    const existing = volumes.find((v) => v.name === volumeName);
    if (existing) {
      if (opts.ignoreIfExists) return existing;
      throw new BerthError('VOLUME_EXISTS', `volume with name ${volumeName} already exists: volume already exists`);
    }
    const record = newRecord(volumeName, opts);
    volumes.push(record);
    made = true;
    return record;
  });
  if (made) await volumeEvent(store, 'create', volume.name);
  return volume;
}

/**
 * Makes sure every volume a new container names exists; called under the store lock by create, so a
 * concurrent `volume rm` cannot remove one between this and the container record landing.
 */
export async function ensureVolumes(store: Store, wanted: { name: string; anonymous: boolean }[]): Promise<void> {
  if (wanted.length === 0) return;
  await Promise.all(wanted.map((w) => mkdir(volumeDataDir(store, w.name), { recursive: true })));
  const made: string[] = [];
  await store.updateVolumes((volumes) => {
    for (const w of wanted) {
      if (volumes.some((v) => v.name === w.name)) continue;
      volumes.push(newRecord(w.name, { anonymous: w.anonymous }));
      made.push(w.name);
    }
  });
  for (const name of made) await volumeEvent(store, 'create', name);
}

/** By full name, or by a prefix that names exactly one volume (podman's lookup). */
export function findVolume(volumes: readonly VolumeRecord[], name: string): VolumeRecord | undefined {
  const exact = volumes.find((v) => v.name === name);
  if (exact || name === '') return exact;
  const byPrefix = volumes.filter((v) => v.name.startsWith(name));
  if (byPrefix.length > 1) throw new BerthError('VOLUME_UNKNOWN', `more than one volume matches "${name}": use the full name`);
  return byPrefix[0];
}

export async function getVolume(store: Store, name: string): Promise<VolumeRecord> {
  const v = findVolume(await store.volumes(), name);
  if (!v) throw new BerthError('VOLUME_UNKNOWN', `no volume with name "${name}" found: no such volume`);
  return v;
}

/** podman's `volume inspect` shape. */
export function inspectVolume(store: Store, v: VolumeRecord, containers: readonly ContainerRecord[]) {
  return {
    Name: v.name,
    Driver: 'local',
    Mountpoint: volumeDataDir(store, v.name),
    CreatedAt: v.created,
    Labels: v.labels,
    Scope: 'local',
    Options: v.options,
    Anonymous: v.anonymous,
    NeedsCopyUp: v.needsCopyUp,
    UsedBy: volumeUsers(containers, v.name).map((c) => c.id),
  };
}

/**
 * Removes volume records under the lock and their directories after it (renamed aside first, so a
 * kill -9 half way leaves either the volume or nothing that is still named).
 */
async function dropVolumes(store: Store, names: string[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const dir = store.volumeDir(name);
      const doomed = join(store.root, 'volumes', `.removing-${name}-${randomBytes(4).toString('hex')}`);
      try {
        await rename(dir, doomed);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return;
        throw e;
      }
      await rm(doomed, { recursive: true, force: true });
    }),
  );
}

/**
 * `volume rm`: refuses a volume a container uses unless `force`, which first removes those
 * containers through `removeContainer` (as podman does).
 */
export async function removeVolumes(
  store: Store,
  names: string[],
  opts: { force?: boolean; removeContainer?: (id: string) => Promise<void> } = {},
): Promise<string[]> {
  const volumes = await store.volumes();
  names = names.map((name) => {
    const v = findVolume(volumes, name);
    if (!v) throw new BerthError('VOLUME_UNKNOWN', `no volume with name "${name}" found: no such volume`);
    return v.name;
  });
  if (opts.force && opts.removeContainer) {
    const containers = await store.containers();
    const users = new Set(names.flatMap((n) => volumeUsers(containers, n).map((c) => c.id)));
    for (const id of users) await opts.removeContainer(id);
  }
  return removeWhere(store, (all, containers) => {
    for (const name of names) {
      const users = volumeUsers(containers, name);
      if (users.length > 0) {
        throw new BerthError(
          'VOLUME_IN_USE',
          `volume ${name} is being used by the following container(s): ${users.map((c) => c.id).join(', ')}: volume is being used`,
        );
      }
    }
    return names.filter((n) => all.some((v) => v.name === n));
  });
}

/** `volume prune`: every volume no container uses (podman prunes named and anonymous alike). */
export async function pruneVolumes(store: Store, filter: (v: VolumeRecord) => boolean = () => true): Promise<string[]> {
  return removeWhere(store, (all, containers) => all.filter((v) => filter(v) && volumeUsers(containers, v.name).length === 0).map((v) => v.name));
}

/**
 * Takes the volumes `pick` names (chosen under the lock, from every volume and container record;
 * it may throw to remove none) out of the records, then removes their data and logs their removal; their names.
 */
async function removeWhere(store: Store, pick: (all: VolumeRecord[], containers: readonly StoredContainer[]) => string[]): Promise<string[]> {
  const removed = await store.updateVolumes((all, containers) => {
    const doomed = pick(all, containers);
    const keep = all.filter((v) => !doomed.includes(v.name));
    all.splice(0, all.length, ...keep);
    return doomed;
  });
  await dropVolumes(store, removed);
  for (const name of removed) await volumeEvent(store, 'remove', name);
  return removed;
}

/** Anonymous volumes of a removed container that no other container mounts: what `rm -v` takes. */
export async function removeAnonymousVolumes(store: Store, c: ContainerRecord): Promise<void> {
  const names = (c.config.mountSpecs ?? []).flatMap((m) => (m.type === 'volume' && m.anonymous ? [m.name] : []));
  if (names.length === 0) return;
  await pruneVolumes(store, (v) => names.includes(v.name) && v.anonymous);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BerthError('IO', `${cmd} failed: ${err.trim().split('\n')[0] ?? code}`))));
  });
}

/**
 * Docker's copy-up: the first time an empty volume is mounted over a directory of the image, the
 * image's content there (ownership, modes, xattrs) is copied into it, and the volume's own
 * directory takes the image directory's owner and mode. `source` is already resolved inside the
 * container's root. Done once: the record's needsCopyUp is cleared afterwards by the caller.
 */
export async function copyUpVolume(store: Store, name: string, source: string): Promise<void> {
  const data = volumeDataDir(store, name);
  const st = await lstat(source).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((await readdir(data)).length > 0) return;
  await chown(data, st.uid, st.gid);
  await chmod(data, st.mode & 0o7777);
  if ((await readdir(source)).length === 0) return;
  // GNU cp keeps owners, modes, times, links, devices and xattrs in one pass over the tree.
  await run('cp', ['-a', '--', `${source}/.`, `${data}/`]);
}

/** Marks volumes as copied up (or mounted with nocopy), so the copy never happens twice. */
export async function markCopiedUp(store: Store, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await store.updateVolumes((all) => {
    for (const v of all) if (names.includes(v.name)) v.needsCopyUp = false;
  });
}
