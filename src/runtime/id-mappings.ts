import { BerthError } from '../util/errors.js';

/**
 * A container's own user namespace: which of its IDs are which IDs of the namespace berth runs in
 * (the host's as root; the user's namespace rootless, where the user is 0 and its subordinate IDs
 * follow). The field names are the OCI runtime spec's.
 */
export interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ContainerIdMappings {
  uidMappings: IdMap[];
  gidMappings: IdMap[];
  /** How they were chosen (`--userns` mode, or `maps` for --uidmap/--gidmap), for inspect. */
  mode: 'keep-id' | 'nomap' | 'auto' | 'maps';
}

/** A range of IDs free to give: `start` … `start + size - 1`. */
export interface IdRange {
  start: number;
  size: number;
}

const MAX_ID = 2 ** 32 - 1;

/** `--uidmap CONTAINER:HOST:SIZE` (podman's form; repeatable, each flag one or more triplets joined by commas). */
export function parseIdMapFlags(values: string[], flag: string): IdMap[] {
  const maps: IdMap[] = [];
  for (const value of values.flatMap((v) => v.split(','))) {
    const m = /^(\d+):(\d+):(\d+)$/.exec(value.trim());
    if (!m) throw new BerthError('USAGE', `invalid ${flag} "${value}": expected CONTAINER_ID:HOST_ID:SIZE, e.g. 0:100000:65536`);
    const [containerID, hostID, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (size === 0 || containerID + size - 1 > MAX_ID || hostID + size - 1 > MAX_ID)
      throw new BerthError('USAGE', `invalid ${flag} "${value}": the range is empty or past 2^32`);
    maps.push({ containerID, hostID, size });
  }
  checkNoOverlap(maps, flag);
  return maps;
}

function overlaps(a: IdRange, b: IdRange): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/** Neither two container ranges nor two host ranges of one map may share an ID (the kernel refuses it). */
export function checkNoOverlap(maps: IdMap[], flag: string): void {
  for (let i = 0; i < maps.length; i++) {
    for (let j = i + 1; j < maps.length; j++) {
      const [a, b] = [maps[i]!, maps[j]!];
      if (
        overlaps({ start: a.containerID, size: a.size }, { start: b.containerID, size: b.size }) ||
        overlaps({ start: a.hostID, size: a.size }, { start: b.hostID, size: b.size })
      ) {
        throw new BerthError('USAGE', `invalid ${flag}: the ranges ${a.containerID}:${a.hostID}:${a.size} and ${b.containerID}:${b.hostID}:${b.size} overlap`);
      }
    }
  }
}

/** A container ID as the namespace berth runs in sees it; undefined when the map leaves it out. */
export function toHostId(maps: IdMap[], id: number): number | undefined {
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return undefined;
}

/** The reverse: an ID of the namespace berth runs in as the container sees it. */
export function toContainerId(maps: IdMap[], id: number): number | undefined {
  for (const m of maps) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
  return undefined;
}

/** The ranges of IDs a /proc/PID/uid_map (or gid_map) gives the process's namespace, by its own IDs. */
export function mappedRanges(mapText: string): IdRange[] {
  return mapText
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3)
    .map((f) => ({ start: Number(f[0]), size: Number(f[2]) }));
}

/** How many IDs a /proc/PID/uid_map (or gid_map) maps: rootless, the IDs berth can give out. */
export function mappedCount(mapText: string): number {
  return mappedRanges(mapText).reduce((n, r) => n + r.size, 0);
}

/**
 * The maps cut where the namespace berth runs in changes from one of its own ranges to the next:
 * the kernel takes a line of a child's map only if all of it lies in one line of the parent's
 * (rootless: the user's own ID, then each subordinate range), so `0 1 70000` over two ranges of
 * 65536 is refused where `0 1 65536` and `65536 65537 4464` are not.
 */
export function splitAtParentRanges(maps: IdMap[], parent: IdRange[]): IdMap[] {
  const cuts = [...new Set(parent.flatMap((r) => [r.start, r.start + r.size]))].sort((a, b) => a - b);
  const out: IdMap[] = [];
  for (const m of maps) {
    let { containerID, hostID, size } = m;
    for (const cut of cuts) {
      if (cut <= hostID || cut >= hostID + size) continue;
      const head = cut - hostID;
      out.push({ containerID, hostID, size: head });
      containerID += head;
      hostID += head;
      size -= head;
    }
    out.push({ containerID, hostID, size });
  }
  return out;
}

/**
 * `--userns=keep-id`: the user's own ID inside is the user (its namespace's 0), the IDs below it
 * the subordinate ones from 1, those above it the rest, so the container has every ID up to the
 * namespace's size and the user's files are its own inside.
 */
export function keepIdMappings(ownId: number, count: number): IdMap[] {
  // A namespace too small to reach past the user's ID: the subordinate IDs all go below it.
  if (ownId >= count - 1) {
    return [
      { containerID: 0, hostID: 1, size: count - 1 },
      { containerID: ownId, hostID: 0, size: 1 },
    ].filter((m) => m.size > 0);
  }
  return [
    { containerID: 0, hostID: 1, size: ownId },
    { containerID: ownId, hostID: 0, size: 1 },
    { containerID: ownId + 1, hostID: ownId + 1, size: count - ownId - 1 },
  ].filter((m) => m.size > 0);
}

/** `--userns=nomap`: only the subordinate IDs, from 0; the user's own ID is not in the container at all. */
export function nomapMappings(count: number): IdMap[] {
  return [{ containerID: 0, hostID: 1, size: count - 1 }];
}

/**
 * `--userns=auto`: the first `size` IDs of `available` that no other container's namespace
 * (`taken`) uses, so containers made this way never share an ID with each other.
 */
export function allocateAuto(size: number, available: IdRange[], taken: IdRange[]): IdMap[] {
  const sorted = [...taken].sort((a, b) => a.start - b.start);
  for (const range of available) {
    let start = range.start;
    for (const t of sorted) {
      if (start + size <= t.start) break;
      if (overlaps({ start, size }, t)) start = t.start + t.size;
    }
    if (start + size <= range.start + range.size) return [{ containerID: 0, hostID: start, size }];
  }
  throw new BerthError('USAGE', `--userns=auto: no ${size} IDs are left that no other container uses (give size= a smaller number, or remove containers)`);
}
