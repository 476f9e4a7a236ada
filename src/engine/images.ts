import { parseImageConfig, type ImageConfig } from '../oci/manifest.js';
import { parseNormalizedNamed, referenceName } from '../oci/reference.js';
import type { ImageRecord } from '../store/images.js';
import { findImage, requireImage, storedName } from '../store/lookup.js';
import type { Store } from '../store/store.js';
import { BerthError } from '../util/errors.js';
import { imageEvent } from './events.js';

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
  return parseImageConfig(await store.blobs.read(image.id));
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

function resolveOwnName(image: ImageRecord, input: string): string | undefined {
  const candidates = [storedName(input)];
  try {
    const ref = parseNormalizedNamed(input);
    candidates.push(`${referenceName(ref)}:${ref.tag ?? 'latest'}`);
  } catch {
    /* the localhost/ candidate alone */
  }
  return image.names.find((n) => candidates.includes(n));
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

/**
 * `rmi`: an image named by one of several names loses that name only (unless forced); an image
 * named by ID, or by its last name, is deleted with the layers and blobs no other image uses.
 */
export async function removeImages(store: Store, inputs: string[], opts: { force?: boolean; all?: boolean } = {}): Promise<RemoveResult> {
  const result: RemoveResult = { untagged: [], deleted: [] };
  const removed: ImageRecord[] = [];
  const untagged: [string, string][] = [];
  const errors: BerthError[] = [];
  if (opts.force) {
    // podman's rmi -f removes the containers made from the image first.
    const images = await store.images();
    const ids = new Set(opts.all ? images.map((i) => i.id) : inputs.map((n) => findImage(images, n)?.id).filter((x): x is string => x !== undefined));
    const { removeContainer } = await import('./containers/lifecycle.js');
    for (const c of await store.containers()) if (ids.has(c.image)) await removeContainer(store, c.id, { force: true });
  }
  const containers = await store.containers();
  await store.updateImages((images) => {
    const targets = opts.all ? [...images.map((i) => i.id)] : inputs;
    for (const input of targets) {
      let image: ImageRecord;
      try {
        image = requireImage(images, input);
      } catch (e) {
        if (e instanceof BerthError) {
          errors.push(e);
          continue;
        }
        throw e;
      }
      const byName = resolveOwnName(image, input);
      if (byName && image.names.length > 1 && !opts.force) {
        image.names = image.names.filter((n) => n !== byName);
        result.untagged.push(byName);
        untagged.push([image.id, byName]);
        continue;
      }
      if (!byName && image.names.length > 1 && !opts.force && !opts.all) {
        errors.push(new BerthError('IMAGE_IN_USE', `unable to delete image "${image.id.slice(7)}" by ID with more than one tag (${image.names.join(', ')}): please force removal`));
        continue;
      }
      const user = containers.find((c) => c.image === image.id);
      if (user) {
        errors.push(new BerthError('IMAGE_IN_USE', `image used by ${user.id}: image is in use by a container: consider listing external containers and force-removing image`));
        continue;
      }
      result.untagged.push(...image.names);
      untagged.push(...image.names.map((n): [string, string] => [image.id, n]));
      images.splice(images.indexOf(image), 1);
      removed.push(image);
      result.deleted.push(image.id);
    }
  });
  for (const [id, name] of untagged) await imageEvent(store, 'untag', id, name);
  for (const i of removed) await imageEvent(store, 'remove', i.id, i.names[0]);
  if (removed.length > 0) {
    await store.collectGarbage({
      candidates: {
        layers: removed.flatMap((i) => i.layers),
        blobs: removed.flatMap((i) => [i.id, i.manifestDigest, ...i.digests, ...(i.indexDigest ? [i.indexDigest] : []), ...i.layerBlobs]),
      },
    });
  }
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new BerthError(first.code, errors.map((e) => e.message).join('\n'));
  }
  return result;
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
  const prefixOf = (short: readonly string[], long: readonly string[]) => short.length > 0 && short.length < long.length && short.every((l, i) => long[i] === l);
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
  const inUse = new Set((await store.containers()).map((c) => c.image));
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
