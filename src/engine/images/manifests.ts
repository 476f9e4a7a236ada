import { randomBytes } from '../../util/crypto.js';
import { digestOf } from '../../oci/digest.js';
import { parseImageConfig, type Descriptor, type DescriptorPlatform, type ImageIndex } from '../../oci/manifest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { hostPlatform } from '../../oci/platform.js';
import { formatReference, parseNormalizedNamed, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import type { Image, ImageIndexBundle, ManifestBlob } from '../../image/image.js';
import { manifestLists, updateManifestLists, type ManifestListEntry, type ManifestListRecord } from '../../store/manifest-lists.js';
import { findImage, requireImage, storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { readStoreImage } from '../../transports/store.js';
import { readRegistryImage, readRegistryIndex, RegistryClient, writeRegistryIndex, type RegistryOptions } from '../../transports/docker/index.js';
import { registriesConf, stripDockerTransport } from './pull.js';
import { BerthError } from '../../util/errors.js';

/** What `manifest add` and `manifest annotate` may set on an entry. */
export interface EntryAnnotations {
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  features?: string[];
  annotations?: Record<string, string>;
}

/** A list by any of its names or its ID (or a unique prefix of it), as images are found. */
export function findList(lists: readonly ManifestListRecord[], input: string): ManifestListRecord | undefined {
  const hex = input.replace(/^sha256:/, '');
  if (/^[a-f0-9]{3,64}$/.test(hex)) {
    const byId = lists.filter((l) => l.id.startsWith(hex));
    if (byId.length === 1) return byId[0];
  }
  let name: string;
  try {
    name = storedName(input);
  } catch {
    return undefined;
  }
  return lists.find((l) => l.names.includes(name));
}

function requireList(lists: readonly ManifestListRecord[], input: string): ManifestListRecord {
  const list = findList(lists, input);
  if (!list) throw new BerthError('IMAGE_UNKNOWN', `${input}: image not known`);
  return list;
}

/** The index a list stands for, as exact bytes with their digest (podman prints and pushes this). */
export function listIndex(list: ManifestListRecord, mediaType = list.mediaType): ManifestBlob {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    manifests: list.entries.map((e) => e.descriptor),
    ...(list.annotations && mediaType === MediaType.OciIndex ? { annotations: list.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(index, null, 4));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

/** `manifest create NAME [IMAGE...]`: an empty list under a new name, then each image added. */
export async function createList(
  store: Store,
  name: string,
  images: string[],
  opts: { all?: boolean; registry?: RegistryOptions } = {},
): Promise<ManifestListRecord> {
  const stored = storedName(name);
  const list = await updateManifestLists(store, async (lists) => {
    const holder = lists.find((l) => l.names.includes(stored)) ?? findImage(await store.images(), stored);
    if (holder?.names.includes(stored)) {
      throw new BerthError('USAGE', `image name "${stored}" is already associated with image "${holder.id.replace(/^sha256:/, '')}"`);
    }
    const record: ManifestListRecord = {
      id: randomBytes(32).toString('hex'),
      names: [stored],
      mediaType: MediaType.DockerManifestList,
      entries: [],
      created: new Date().toISOString(),
    };
    lists.push(record);
    return record;
  });
  for (const image of images)
    await addToList(store, list.id, image, { ...(opts.all ? { all: true } : {}), ...(opts.registry ? { registry: opts.registry } : {}) });
  return list;
}

function applyAnnotations(descriptor: Descriptor, a: EntryAnnotations): Descriptor {
  const platform: DescriptorPlatform = { ...(descriptor.platform ?? { architecture: '', os: '' }) };
  if (a.arch !== undefined) platform.architecture = a.arch;
  if (a.os !== undefined) platform.os = a.os;
  if (a.variant !== undefined) platform.variant = a.variant;
  if (a.osVersion !== undefined) platform['os.version'] = a.osVersion;
  if (a.osFeatures?.length) platform['os.features'] = a.osFeatures;
  if (a.features?.length) platform.features = a.features;
  const annotations = { ...(descriptor.annotations ?? {}), ...(a.annotations ?? {}) };
  return { ...descriptor, platform, ...(Object.keys(annotations).length ? { annotations } : {}) };
}

/** The platform an image's config declares, as an index descriptor carries it. */
function platformOfConfig(configBytes: Uint8Array): DescriptorPlatform {
  const config = parseImageConfig(configBytes);
  return {
    architecture: config.architecture,
    os: config.os,
    ...(config.variant ? { variant: config.variant } : {}),
    ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
    ...(config['os.features']?.length ? { 'os.features': config['os.features'] } : {}),
  };
}

function entryOf(image: Image, source: string): ManifestListEntry {
  return {
    descriptor: {
      mediaType: image.manifest.mediaType,
      size: image.manifest.bytes.length,
      digest: image.manifest.digest,
      platform: platformOfConfig(image.config.bytes),
    },
    source,
  };
}

const LOCAL_TRANSPORTS = ['containers-storage:', 'berth:'];

/**
 * The entries an image reference adds: from a registry (the default, as podman's `docker://`),
 * or from the local store with `containers-storage:`/`berth:`. An index adds the host's
 * platform's image, or with `all` every image it lists.
 */
async function entriesFor(store: Store, input: string, opts: { all?: boolean; registry?: RegistryOptions }): Promise<ManifestListEntry[]> {
  const local = LOCAL_TRANSPORTS.find((t) => input.startsWith(t));
  if (local) {
    const record = requireImage(await store.images(), input.slice(local.length));
    return [entryOf(await readStoreImage(store, record), `berth:${record.id}`)];
  }
  const ref = withDefaultTag(parseNormalizedNamed(stripDockerTransport(input)));
  const client = await RegistryClient.open(ref.domain, { ...opts.registry, registriesConf: await registriesConf() }, `${ref.domain}/${ref.path}`);
  try {
    const sourceOf = (digest: string) => `docker://${formatReference({ domain: ref.domain, path: ref.path, digest })}`;
    if (opts.all) {
      const read = await readRegistryIndex(ref, { ...opts.registry, client });
      const images = 'children' in read ? read.children : [read];
      return images.map((image) => entryOf(image, sourceOf(image.manifest.digest)));
    }
    const image = await readRegistryImage(ref, { ...opts.registry, client, platform: hostPlatform() });
    return [entryOf(image, sourceOf(image.manifest.digest))];
  } finally {
    client.close();
  }
}

/** `manifest add LIST IMAGE`: an entry per image; one already listed (same digest) is replaced, as podman does. */
export async function addToList(
  store: Store,
  listName: string,
  image: string,
  opts: { all?: boolean; registry?: RegistryOptions; annotate?: EntryAnnotations } = {},
): Promise<ManifestListRecord> {
  requireList(await manifestLists(store), listName);
  const entries = await entriesFor(store, image, opts);
  return updateManifestLists(store, (lists) => {
    const list = requireList(lists, listName);
    for (const entry of entries) {
      const annotated = opts.annotate ? { ...entry, descriptor: applyAnnotations(entry.descriptor, opts.annotate) } : entry;
      const at = list.entries.findIndex((e) => e.descriptor.digest === entry.descriptor.digest);
      if (at >= 0) list.entries[at] = annotated;
      else list.entries.push(annotated);
    }
    return { ...list };
  });
}

/** `manifest annotate LIST DIGEST`: changes the platform and annotations of one entry. */
export async function annotateList(
  store: Store,
  listName: string,
  digest: string,
  annotate: EntryAnnotations & { index?: boolean },
): Promise<ManifestListRecord> {
  return updateManifestLists(store, (lists) => {
    const list = requireList(lists, listName);
    if (annotate.index) {
      list.annotations = { ...(list.annotations ?? {}), ...(annotate.annotations ?? {}) };
      return { ...list };
    }
    const entry = list.entries.find((e) => e.descriptor.digest === digest);
    if (!entry) throw new BerthError('USAGE', `${digest}: no such image in manifest list ${list.names[0] ?? list.id}`);
    entry.descriptor = applyAnnotations(entry.descriptor, annotate);
    return { ...list };
  });
}

/** `manifest remove LIST DIGEST`: drops one entry. */
export async function removeFromList(store: Store, listName: string, digest: string): Promise<ManifestListRecord> {
  return updateManifestLists(store, (lists) => {
    const list = requireList(lists, listName);
    const at = list.entries.findIndex((e) => e.descriptor.digest === digest);
    if (at < 0) throw new BerthError('USAGE', `${digest}: no such image in manifest list ${list.names[0] ?? list.id}`);
    list.entries.splice(at, 1);
    return { ...list };
  });
}

/** `manifest inspect`: a local list's index, else the named image's manifest or index in its registry. */
export async function inspectList(store: Store, name: string, registry: RegistryOptions = {}): Promise<ManifestBlob> {
  const list = findList(await manifestLists(store), name);
  if (list) return listIndex(list);
  const ref = withDefaultTag(parseNormalizedNamed(stripDockerTransport(name)));
  const client = await RegistryClient.open(ref.domain, { ...registry, registriesConf: await registriesConf() }, `${ref.domain}/${ref.path}`);
  try {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    return await client.getManifest(ref.path, reference);
  } finally {
    client.close();
  }
}

/** Each entry's image, from where it was added, for a push of the whole list. */
async function entryImage(store: Store, entry: ManifestListEntry, registry: RegistryOptions, opened: RegistryClient[]): Promise<Image> {
  if (entry.source.startsWith('berth:')) {
    const record = requireImage(await store.images(), entry.source.slice('berth:'.length));
    const image = await readStoreImage(store, record);
    if (image.manifest.digest !== entry.descriptor.digest) {
      throw new BerthError('DIGEST_MISMATCH', `image ${record.id} no longer has manifest ${entry.descriptor.digest}: add it to the list again`);
    }
    return image;
  }
  const ref: ImageReference = parseNormalizedNamed(stripDockerTransport(entry.source));
  // The client serves the image's layers until the push is done: the caller closes it.
  const client = await RegistryClient.open(ref.domain, { ...registry, registriesConf: await registriesConf() }, `${ref.domain}/${ref.path}`);
  opened.push(client);
  return readRegistryImage(ref, { ...registry, client });
}

/**
 * `manifest push LIST DEST`: every image of the list (with `all`, the default as in podman), then
 * the index, whose digest is returned. `format` pushes it as an OCI index or a Docker list.
 */
export async function pushList(
  store: Store,
  listName: string,
  dest: string,
  opts: { all?: boolean; format?: 'oci' | 'v2s2'; registry?: RegistryOptions; rm?: boolean } = {},
): Promise<string> {
  const list = requireList(await manifestLists(store), listName);
  if (list.entries.length === 0) throw new BerthError('USAGE', `manifest list ${list.names[0] ?? list.id} is empty: add images to it first`);
  const mediaType = opts.format === 'oci' ? MediaType.OciIndex : opts.format === 'v2s2' ? MediaType.DockerManifestList : list.mediaType;
  const index = listIndex(list, mediaType);
  const ref = withDefaultTag(parseNormalizedNamed(stripDockerTransport(dest)));
  const registry = opts.registry ?? {};
  const opened: RegistryClient[] = [];
  let digest: string;
  try {
    const children = opts.all === false ? [] : await Promise.all(list.entries.map((e) => entryImage(store, e, registry, opened)));
    const bundle: ImageIndexBundle = { index, children };
    digest = (await writeRegistryIndex(ref, bundle, { ...registry, registriesConf: await registriesConf() })).digest;
  } finally {
    for (const c of opened) c.close();
  }
  if (opts.rm) await removeLists(store, [list.id]);
  return digest;
}

/** `manifest rm`: the lists go (never the images they name); podman's Untagged/Deleted lines. */
export async function removeLists(store: Store, names: string[]): Promise<string[]> {
  return updateManifestLists(store, (lists) => {
    const out: string[] = [];
    for (const name of names) {
      const list = requireList(lists, name);
      lists.splice(lists.indexOf(list), 1);
      out.push(...list.names.map((n) => `Untagged: ${n}`), `Deleted: ${list.id}`);
    }
    return out;
  });
}

/** Whether a name is a local manifest list. */
export async function listExists(store: Store, name: string): Promise<boolean> {
  return findList(await manifestLists(store), name) !== undefined;
}
