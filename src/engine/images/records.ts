import { parseImageConfig, type ImageConfig } from '../../oci/manifest.js';
import { parseNormalizedNamed, referenceName } from '../../oci/reference.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { ImageRecord } from '../../store/images.js';
import { findImage, requireImage, storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { imageEvent } from '../system/events.js';

export function repoAndTag(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  if (at >= 0) return { repository: name.slice(0, at), tag: '<none>' };
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name, tag: '<none>' };
}

export function repoDigests(image: ImageRecord): string[] {
  const repos = [...new Set(image.names.map((n) => repoAndTag(n).repository))];
  return repos.flatMap((r) => image.digests.map((d) => `${r}@${d}`));
}

export async function imageConfig(store: Store, image: ImageRecord): Promise<ImageConfig> {
  // Parsed anew each time from bytes the store may keep: every caller gets a config of its own.
  return parseImageConfig(await store.blobs.readSmall(image.id));
}

/** Adds names to an image; a name held by another image moves here. */
export async function tagImage(store: Store, source: string, targets: string[]): Promise<void> {
  const names = targets.map(storedName);
  const id = await store.updateImages((images) => {
    const image = requireImage(images, source);
    for (const other of images) if (other !== image) other.names = other.names.filter((n) => !names.includes(n));
    for (const n of names) if (!image.names.includes(n)) image.names.push(n);
    return image.id;
  });
  for (const t of targets) await imageEvent(store, 'tag', id, t);
}

/** Removes names from an image (all of them when none are given); the image itself stays. */
export async function untagImage(store: Store, source: string, targets: string[]): Promise<void> {
  const untagged: [string, string][] = [];
  await store.updateImages((images) => {
    const image = requireImage(images, source);
    if (targets.length === 0) {
      untagged.push(...image.names.map((n): [string, string] => [image.id, n]));
      image.names = [];
      return;
    }
    for (const t of targets) {
      const name = resolveOwnName(image, t);
      if (!name) throw new BerthError('IMAGE_UNKNOWN', `${t}: tag not known`);
      image.names = image.names.filter((n) => n !== name);
      untagged.push([image.id, name]);
    }
  });
  for (const [id, name] of untagged) await imageEvent(store, 'untag', id, name);
}

/** The one of the image's names that `input` names, if any (short names, docker.io, localhost/ as findImage takes them). */
function resolveOwnName(image: ImageRecord, input: string): string | undefined {
  const candidates = [storedName(input)];
  try {
    const ref = parseNormalizedNamed(input);
    candidates.push(`${referenceName(ref)}:${ref.tag ?? 'latest'}`);
  } catch {
    /* the localhost/ candidate alone */
  }
  const exact = image.names.find((n) => candidates.includes(n));
  if (exact) return exact;
  // A short name that findImage matched by its path under another registry: the names it matches alone.
  let matching: string[] = [];
  try {
    matching = image.names.filter((n) => findImage([{ ...image, names: [n], digests: [] }], input) !== undefined);
  } catch {
    /* not a name */
  }
  return matching.length === 1 ? matching[0] : undefined;
}

/** What `rmi` did to one image, in podman's order: the names it lost, then the deletion. */
export interface RemoveReport {
  untagged: string[];
  deleted?: string;
  /** The image a name was taken from (for its event), when the image itself stays. */
  image?: string;
}

export interface RemoveResult {
  reports: RemoveReport[];
  /** What could not be removed; everything else was. podman prints the reports, then these. */
  failures: BerthError[];
}

/** podman's exit codes for rmi: 1 when an image is not known, 2 when a container uses it. */
const UNKNOWN_EXIT = 1;
const IN_USE_EXIT = 2;

type Removal = { untag: string } | { delete: true } | { refuse: BerthError };

/**
 * podman's rules (libimage's removeRecursive) for one image as `input` names it (undefined: `rmi
 * --all`). An image with several names named by one of them only loses that name, with or
 * without force: what the user did not name stays. By ID or digest it is refused unless forced,
 * and then deleted with all its names; with one name left it is deleted.
 */
export function planRemoval(image: ImageRecord, input: string | undefined, force: boolean): Removal {
  if (input === undefined || image.names.length <= 1) return { delete: true };
  const lowered = input.toLowerCase();
  const byId = /^[a-f0-9]{3,64}$/.test(lowered) && image.id.slice(7).startsWith(lowered);
  const byDigest = lowered.startsWith('sha256:');
  if (byId || byDigest) {
    if (force) return { delete: true };
    return {
      refuse: new BerthError(
        'IMAGE_IN_USE',
        `unable to delete image "${image.id.slice(7)}" by ${byId ? 'ID' : 'digest'} with more than one tag ([${image.names.join(' ')}]): please force removal`,
      ),
    };
  }
  const name = resolveOwnName(image, input);
  if (!name) return { refuse: new BerthError('IMAGE_UNKNOWN', `${input}: tag not known`) };
  return { untag: name };
}

/**
 * Applies the removals to `images` in order (several inputs may name one image: `rmi -f a:1 b`
 * untags a:1, then deletes the image by its last name). An image to delete that a container in
 * `containers` uses is refused.
 */
function applyRemovals(
  images: ImageRecord[],
  targets: readonly string[],
  containers: readonly ContainerRecord[],
  opts: { force?: boolean; ignore?: boolean; all?: boolean },
): { reports: RemoveReport[]; removed: ImageRecord[]; failures: BerthError[] } {
  const reports: RemoveReport[] = [];
  const removed: ImageRecord[] = [];
  const failures: BerthError[] = [];
  for (const input of targets) {
    let image: ImageRecord | undefined;
    try {
      image = findImage(images, input);
    } catch (e) {
      if (!(e instanceof BerthError)) throw e;
      failures.push(e);
      continue;
    }
    if (!image) {
      // As podman: --force (like --ignore) passes over a name that is not there.
      if (!opts.ignore && !opts.force) failures.push(new BerthError('IMAGE_UNKNOWN', `${input}: image not known`, { exitCode: UNKNOWN_EXIT }));
      continue;
    }
    const removal = planRemoval(image, opts.all ? undefined : input, opts.force ?? false);
    if ('refuse' in removal) {
      failures.push(removal.refuse);
    } else if ('untag' in removal) {
      image.names = image.names.filter((n) => n !== removal.untag);
      reports.push({ untagged: [removal.untag], image: image.id });
    } else {
      const user = containers.find((c) => imagesUsedBy(c).includes(image.id));
      if (user) {
        failures.push(
          new BerthError(
            'IMAGE_IN_USE',
            `image used by ${user.id}: image is in use by a container: consider listing external containers and force-removing image`,
            { exitCode: IN_USE_EXIT },
          ),
        );
        continue;
      }
      images.splice(images.indexOf(image), 1);
      removed.push(image);
      reports.push({ untagged: [...image.names], deleted: image.id });
    }
  }
  return { reports, removed, failures };
}

/** The images a container uses: its own, and those `--mount type=image` mounts in it (what rmi refuses, prune keeps and `system df` counts active). */
export function imagesUsedBy(c: Pick<ContainerRecord, 'image' | 'config'>): string[] {
  return [c.image, ...(c.config.mountSpecs ?? []).flatMap((m) => (m.type === 'image' ? [m.imageId] : []))];
}

/**
 * `rmi`: see planRemoval. With force, the containers of every image that will be deleted are
 * removed first (as podman does), and only those: untagging one name touches no container.
 * Deleted images take along the layers and blobs no other image uses.
 */
export async function removeImages(store: Store, inputs: string[], opts: { force?: boolean; all?: boolean; ignore?: boolean } = {}): Promise<RemoveResult> {
  const targetsOf = (images: readonly ImageRecord[]) => (opts.all ? images.map((i) => i.id) : inputs);
  if (opts.force) {
    // A dry run on a copy finds what will be deleted; the containers go outside the image lock,
    // since removing one takes the store lock itself.
    const copy = structuredClone(await store.images());
    const doomed = new Set(applyRemovals(copy, targetsOf(copy), [], opts).removed.map((i) => i.id));
    if (doomed.size > 0) {
      const { removeContainer } = await import('../containers/lifecycle.js');
      for (const c of await store.containers()) if (imagesUsedBy(c).some((id) => doomed.has(id))) await removeContainer(store, c.id, { force: true });
    }
  }
  const containers = await store.containers();
  const { reports, removed, failures } = await store.updateImages((images) => applyRemovals(images, targetsOf([...images]), containers, opts));
  for (const r of reports) {
    const id = r.deleted ?? r.image ?? '';
    for (const name of r.untagged) await imageEvent(store, 'untag', id, name);
  }
  for (const i of removed) await imageEvent(store, 'remove', i.id, i.names[0]);
  if (removed.length > 0) {
    await store.collectGarbage({
      candidates: {
        layers: removed.flatMap((i) => i.layers),
        blobs: removed.flatMap((i) => [i.id, i.manifestDigest, ...i.digests, ...(i.indexDigest ? [i.indexDigest] : []), ...i.layerBlobs]),
      },
    });
  }
  return { reports, failures };
}

/** One error for several, as podman prints them, with the highest of their exit codes. */
export function combineErrors(errors: readonly BerthError[]): BerthError | undefined {
  if (errors.length <= 1) return errors[0];
  const message = `${errors.length} errors occurred:\n${errors.map((e) => `\t* ${e.message}`).join('\n')}`;
  return new BerthError(errors[0]!.code, message, { exitCode: Math.max(...errors.map((e) => e.exitCode)) });
}

export interface PruneOptions {
  /** Every image no container uses, not just the dangling ones. */
  all?: boolean;
  /** Only these images may go (`builder prune`: the build's intermediate images). */
  only?: ReadonlySet<string>;
  /** Image to the image it was built on (the build cache's step records): a kept image keeps these. */
  parents?: ReadonlyMap<string, string>;
}

/**
 * The images a kept image needs: the images it was built from (`parents`, followed up the chain)
 * and every image whose layers are a proper prefix of its own, as podman counts an image with a
 * child as not dangling. Removing them would free nothing a kept image uses, but they are its
 * history: `builder prune` and `image prune` leave them.
 */
export function neededImages(images: readonly ImageRecord[], kept: ReadonlySet<string>, parents: ReadonlyMap<string, string> = new Map()): Set<string> {
  const out = new Set(kept);
  const byId = new Map(images.map((i) => [i.id, i]));
  const prefixOf = (short: readonly string[], long: readonly string[]) =>
    short.length > 0 && short.length < long.length && short.every((l, i) => long[i] === l);
  const work = [...kept];
  while (work.length > 0) {
    const id = work.pop()!;
    const image = byId.get(id);
    const add = (other: string) => {
      if (out.has(other) || !byId.has(other)) return;
      out.add(other);
      work.push(other);
    };
    const parent = parents.get(id);
    if (parent !== undefined) add(parent);
    if (image) for (const other of images) if (prefixOf(other.layers, image.layers)) add(other.id);
  }
  return out;
}

/**
 * `image prune`: dangling images (no name), or with `all` every image, except those a container
 * uses and those a kept image needs (neededImages). Then unreferenced leftovers.
 */
export async function pruneImages(store: Store, opts: PruneOptions = {}): Promise<{ deleted: string[]; reclaimed: number }> {
  const removed: ImageRecord[] = [];
  const inUse = new Set((await store.containers()).flatMap(imagesUsedBy));
  await store.updateImages((images) => {
    const kept = new Set(images.filter((i) => inUse.has(i.id) || (opts.only ? !opts.only.has(i.id) : !opts.all && i.names.length > 0)).map((i) => i.id));
    const needed = neededImages(images, kept, opts.parents);
    for (const image of [...images]) {
      if (needed.has(image.id)) continue;
      images.splice(images.indexOf(image), 1);
      removed.push(image);
    }
  });
  for (const i of removed) await imageEvent(store, 'remove', i.id, i.names[0]);
  // Everything unreferenced, not just what the pruned images held: this also sweeps what a
  // killed command left published but unrecorded. The grace period spares concurrent loads.
  const gc = await store.collectGarbage({ graceMs: 10 * 60_000 });
  const targeted = await store.collectGarbage({
    candidates: {
      layers: removed.flatMap((i) => i.layers),
      blobs: removed.flatMap((i) => [i.id, i.manifestDigest, ...i.digests, ...(i.indexDigest ? [i.indexDigest] : []), ...i.layerBlobs]),
    },
  });
  return { deleted: removed.map((i) => i.id), reclaimed: gc.bytes + targeted.bytes };
}
