import { readFileSync } from 'node:fs';
import { chmod, lchown, lstat, opendir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import {
  allocateAuto,
  type ContainerIdMappings,
  type IdMap,
  type IdRange,
  keepIdMappings,
  mappedCount,
  mappedRanges,
  nomapMappings,
  parseIdMapFlags,
  splitAtParentRanges,
  toContainerId,
  toHostId,
} from '../../runtime/id-mappings.js';
import { readSubids } from '../../runtime/subids.js';
import type { StoredContainer } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { rootlessIds } from '../../util/rootless.js';

/** The user namespace flags of `run`/`create`, as podman spells them. */
export interface UserNamespaceFlags {
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  subuidname?: string;
  subgidname?: string;
}

/** What a create asks for: mappings known now, or `auto` ones chosen under the store lock. */
export type UserNamespaceRequest = { kind: 'fixed'; mappings: ContainerIdMappings; user?: string } | { kind: 'auto'; size: number };

/** How many IDs the namespace berth runs in has (rootless: the user and its subordinate IDs). */
const namespaceSize = (file: 'uid_map' | 'gid_map') => mappedCount(readFileSync(`/proc/self/${file}`, 'utf8'));
const parentRanges = (file: 'uid_map' | 'gid_map') => mappedRanges(readFileSync(`/proc/self/${file}`, 'utf8'));

/** Maps the kernel takes: cut along the lines of berth's own namespace's maps. */
function fitted(uidMappings: IdMap[], gidMappings: IdMap[], mode: ContainerIdMappings['mode']): ContainerIdMappings {
  return {
    uidMappings: splitAtParentRanges(uidMappings, parentRanges('uid_map')),
    gidMappings: splitAtParentRanges(gidMappings, parentRanges('gid_map')),
    mode,
  };
}

/**
 * The container's user namespace from the flags, checked at create: undefined for the namespace
 * berth runs in (`host`, the default). keep-id and nomap are rootless podman's; auto takes IDs from
 * the user's namespace rootless and from the `containers` user's subordinate ranges as root.
 */
export function parseUserNamespace(f: UserNamespaceFlags): UserNamespaceRequest | undefined {
  const rootless = rootlessIds();
  const [mode = '', optionText] = splitOnce(f.userns ?? '', ':');
  const maps = f.uidmap?.length || f.gidmap?.length || f.subuidname || f.subgidname;
  if (maps && mode && mode !== 'host' && mode !== 'private')
    throw new BerthError('USAGE', `--userns=${mode} cannot be given with --uidmap, --gidmap, --subuidname or --subgidname`);
  if (f.uidmap?.length || f.gidmap?.length) {
    // podman: one of the two given stands for both.
    const uid = parseIdMapFlags(f.uidmap?.length ? f.uidmap : f.gidmap!, '--uidmap');
    const gid = parseIdMapFlags(f.gidmap?.length ? f.gidmap : f.uidmap!, '--gidmap');
    if (rootless) {
      checkWithin(uid, namespaceSize('uid_map'), '--uidmap');
      checkWithin(gid, namespaceSize('gid_map'), '--gidmap');
    }
    return { kind: 'fixed', mappings: fitted(uid, gid, 'maps') };
  }
  if (f.subuidname || f.subgidname)
    throw new BerthError('USAGE', '--subuidname and --subgidname are read as root from /etc/subuid: use --uidmap or --userns=auto');
  if (mode === '' || mode === 'host') return undefined;
  if (mode === 'keep-id' || mode === 'nomap') {
    if (!rootless) throw new BerthError('USAGE', `${mode} is only supported in rootless mode`);
    if (mode === 'nomap') {
      if (optionText) throw new BerthError('USAGE', `--userns=nomap takes no options`);
      return { kind: 'fixed', mappings: fitted(nomapMappings(namespaceSize('uid_map')), nomapMappings(namespaceSize('gid_map')), mode) };
    }
    const opts = keyValues(optionText, mode, ['uid', 'gid']);
    const uid = idOption(opts.get('uid'), 'uid') ?? rootless.uid;
    const gid = idOption(opts.get('gid'), 'gid') ?? rootless.gid;
    return {
      kind: 'fixed',
      mappings: fitted(keepIdMappings(uid, namespaceSize('uid_map')), keepIdMappings(gid, namespaceSize('gid_map')), mode),
      // podman runs the container as the user unless --user says otherwise.
      user: `${uid}:${gid}`,
    };
  }
  if (mode === 'auto') {
    const opts = keyValues(optionText, mode, ['size']);
    const size = idOption(opts.get('size'), 'size') ?? 1024;
    if (size < 1) throw new BerthError('USAGE', '--userns=auto:size= must be at least 1');
    return { kind: 'auto', size };
  }
  throw new BerthError('USAGE', `invalid --userns "${f.userns}": expected host, keep-id, nomap, auto or private`);
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i === -1 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

function keyValues(text: string | undefined, mode: string, keys: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text ? text.split(',') : []) {
    const [key, value] = splitOnce(part, '=');
    if (!keys.includes(key) || value === undefined)
      throw new BerthError('USAGE', `invalid --userns=${mode} option "${part}": expected ${keys.map((k) => `${k}=N`).join(' or ')}`);
    out.set(key, value);
  }
  return out;
}

function idOption(value: string | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new BerthError('USAGE', `invalid --userns option ${key}=${value}: expected a number`);
  return Number(value);
}

function checkWithin(maps: IdMap[], count: number, flag: string): void {
  for (const m of maps) {
    if (m.hostID + m.size > count) {
      throw new BerthError(
        'USAGE',
        `invalid ${flag} ${m.containerID}:${m.hostID}:${m.size}: rootless, host IDs are those of your user namespace, 0 to ${count - 1}`,
      );
    }
  }
}

/**
 * An `auto` request made concrete under the store lock: the IDs no other container's auto
 * namespace holds, from the user's namespace (rootless, its IDs but the user's own) or from the
 * subordinate ranges of the `containers` user (root, as podman).
 */
export async function allocateUserNamespace(request: UserNamespaceRequest, containers: StoredContainer[]): Promise<ContainerIdMappings> {
  if (request.kind === 'fixed') return request.mappings;
  const taken = (pick: (m: ContainerIdMappings) => IdMap[]): IdRange[] =>
    containers.flatMap((c) => (c.config.userNamespace?.mode === 'auto' ? pick(c.config.userNamespace).map((m) => ({ start: m.hostID, size: m.size })) : []));
  const [uidRanges, gidRanges] = await availableRanges();
  return {
    uidMappings: allocateAuto(
      request.size,
      uidRanges,
      taken((m) => m.uidMappings),
    ),
    gidMappings: allocateAuto(
      request.size,
      gidRanges,
      taken((m) => m.gidMappings),
    ),
    mode: 'auto',
  };
}

async function availableRanges(): Promise<[IdRange[], IdRange[]]> {
  // Rootless: each of the namespace's own ranges but the user's ID (0), one at a time, as the kernel wants a line within one.
  const withoutUser = (ranges: IdRange[]) => ranges.map((r) => (r.start === 0 ? { start: 1, size: r.size - 1 } : r)).filter((r) => r.size > 0);
  if (rootlessIds()) return [withoutUser(parentRanges('uid_map')), withoutUser(parentRanges('gid_map'))];
  const user = { name: 'containers', id: -1 };
  const [uids, gids] = await Promise.all([readSubids('/etc/subuid', user), readSubids('/etc/subgid', user)]);
  if (!uids.length || !gids.length) {
    throw new BerthError(
      'USAGE',
      '--userns=auto as root takes IDs from the "containers" user\'s ranges: add "containers:2147483647:2147483648" to /etc/subuid and /etc/subgid',
    );
  }
  return [uids.map((r) => ({ start: r.start, size: r.count })), gids.map((r) => ({ start: r.start, size: r.count }))];
}

/**
 * The container's root given the owners its namespace expects: each file's owner, an ID as the
 * image has it, becomes the ID of berth's namespace the container sees as that one (the container's
 * layer takes a copy of each file, as podman's storage does where it cannot ID-map the mount).
 * Done once, at the first start; setuid and setgid bits, which a change of owner clears, are put back.
 */
export async function shiftRootOwners(root: string, m: ContainerIdMappings, imageLayers?: string[], rel = ''): Promise<void> {
  const path = rel ? join(root, rel) : root;
  const st = await lstat(path);
  const image = imageLayers && (await imageOwner(imageLayers, rel));
  await shiftOne(path, st, image ?? st, m);
  if (!st.isDirectory()) return;
  const entries = await opendir(path);
  for await (const entry of entries) await shiftRootOwners(root, m, imageLayers, rel ? join(rel, entry.name) : entry.name);
}

/** A path's owner as the image has it: in the topmost layer (first of `layers`) that holds it. */
async function imageOwner(layers: string[], rel: string): Promise<{ uid: number; gid: number } | undefined> {
  for (const layer of layers) {
    const st = await lstat(join(layer, rel)).catch(() => undefined);
    if (st) return st;
  }
  return undefined;
}

async function shiftOne(
  path: string,
  st: { uid: number; gid: number; mode: number; isSymbolicLink(): boolean },
  image: { uid: number; gid: number },
  m: ContainerIdMappings,
): Promise<void> {
  const uid = toHostId(m.uidMappings, image.uid) ?? image.uid;
  const gid = toHostId(m.gidMappings, image.gid) ?? image.gid;
  if (uid === st.uid && gid === st.gid) return;
  await lchown(path, uid, gid);
  if (!st.isSymbolicLink() && st.mode & 0o6000) await chmod(path, st.mode & 0o7777);
}

/**
 * What a tar of the container's files (commit, export) writes as owners: the container's own IDs,
 * not those berth's namespace keeps them under.
 */
export function containerTarOptions(c: { config: { userNamespace?: ContainerIdMappings } }): {
  owner?: (uid: number, gid: number) => { uid: number; gid: number };
} {
  const m = c.config.userNamespace;
  if (!m) return {};
  return { owner: (uid, gid) => ({ uid: toContainerId(m.uidMappings, uid) ?? OVERFLOW_ID, gid: toContainerId(m.gidMappings, gid) ?? OVERFLOW_ID }) };
}

/** The kernel's overflow ID: what the container sees for an owner its namespace does not map. */
const OVERFLOW_ID = 65534;

/**
 * The container's root user, an ID of its own namespace, must walk the path to its root file system
 * (the runtime mounts it as that user). berth's own directories on the way are opened to passing
 * through (o+x, never listing); one above the store that is closed fails in one line naming it.
 */
export async function ensureRootReachable(storeRoot: string, rootfs: string): Promise<void> {
  const below = relative(storeRoot, rootfs).split(sep).slice(0, -1);
  let dir = storeRoot;
  for (const part of ['', ...below]) {
    dir = part ? join(dir, part) : dir;
    const st = await stat(dir);
    if (!(st.mode & 0o001)) await chmod(dir, (st.mode & 0o7777) | 0o001);
  }
  for (let up = dirname(storeRoot); ; up = dirname(up)) {
    const st = await stat(up);
    if (!(st.mode & 0o001)) {
      throw new BerthError(
        'USAGE',
        `the container's root user cannot reach its root file system: ${up} is closed to others (chmod o+x ${up}), or use --userns=keep-id or host`,
      );
    }
    if (up === dirname(up)) break;
  }
}
