/** The source and destination a `transport:reference` name opens (every transport of reference.ts). */
import { loadRegistriesConf, pullSources, type RegistriesConf } from '../../config/registries.js';
import type { Image, ImageIndexBundle, NamedImage } from '../../image/image.js';
import type { Platform } from '../../oci/platform.js';
import { formatReference, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import { findImage, storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { readDockerArchive } from '../docker-archive.js';
import { openBlob } from '../docker/blobs.js';
import { RegistryClient, type RegistryOptions } from '../docker/client.js';
import { DEFAULT_RETRY } from '../docker/_http.js';
import { readRegistryImage, readRegistryIndex } from '../docker/reader.js';
import { readDirImage, readDirIndex } from '../dir.js';
import { DirectoryFiles, openTarArchive } from '../files.js';
import { readOciLayout, readOciLayoutIndex } from '../oci-layout.js';
import { readStoreImage } from '../store.js';
import { dirDestination } from './dir.js';
import { dockerArchiveDestination } from './docker-archive.js';
import { imageSource } from './image-source.js';
import { ociArchiveDestination, ociDirDestination } from './oci-layout.js';
import type { TransportRef } from './reference.js';
import { registryDestination, type RegistryDestinationOptions } from './registry.js';
import { storeDestination } from './store.js';
import type { ImageDestination, ImageSource } from './types.js';

export interface OpenSourceOptions {
  registry?: RegistryOptions;
  /** The platform to take out of an index (default the host's). */
  platform?: Platform;
  /** Read every child of an index (`copy --all`), not one platform. */
  allPlatforms?: boolean;
}

function pick(images: NamedImage[], name: string | undefined, where: string): NamedImage {
  if (name === undefined) {
    if (images.length !== 1) throw new BerthError('USAGE', `${where} holds ${images.length} images: name one (${where}:NAME)`);
    return images[0]!;
  }
  const found = images.find((i) => i.names.includes(name) || i.names.includes(storedName(name)));
  if (!found) throw new BerthError('IMAGE_UNKNOWN', `${where}: no image named ${name}`);
  return found;
}

function describe(ref: TransportRef): string {
  switch (ref.transport) {
    case 'docker':
      return `docker://${formatReference(ref.ref)}`;
    case 'berth':
      return `berth:${ref.name}`;
    case 'dir':
      return `dir:${ref.path}`;
    default:
      return `${ref.transport}:${ref.path}${ref.name ? `:${ref.name}` : ''}`;
  }
}

/** registries.conf as podman finds it ($CONTAINERS_REGISTRIES_CONF replaces the default files). */
async function registriesConfOf(opts: RegistryOptions): Promise<RegistriesConf> {
  if (opts.registriesConf) return opts.registriesConf;
  const explicit = (opts.env ?? process.env)['CONTAINERS_REGISTRIES_CONF'];
  return loadRegistriesConf(explicit ? { explicit } : {});
}

/**
 * A registry image, read as pull reads it: through the registry's mirrors (registries.conf) first, then the
 * registry itself; the first that gives the manifest is the source. Each client is closed (a failed try at once,
 * the one used by the source's close()).
 */
async function openRegistrySource(ref: ImageReference, opts: OpenSourceOptions): Promise<ImageSource> {
  const base = opts.registry ?? {};
  const conf = await registriesConfOf(base);
  const errors: { ref: string; error: unknown }[] = [];
  for (const source of pullSources(conf, ref)) {
    const at = source.reference;
    const client = await RegistryClient.open(
      at.domain,
      { ...base, registriesConf: conf, ...(source.endpoint.insecure && base.tlsVerify === undefined ? { tlsVerify: false } : {}) },
      `${at.domain}/${at.path}`,
    );
    let read: Image | ImageIndexBundle;
    try {
      read = opts.allPlatforms
        ? await readRegistryIndex(at, { client })
        : await readRegistryImage(at, { client, ...(opts.platform ? { platform: opts.platform } : {}) });
    } catch (e) {
      client.close();
      errors.push({ ref: formatReference(at), error: e });
      continue;
    }
    return registryImageSource(client, at, read, () => client.close());
  }
  if (errors.length === 1) throw errors[0]!.error;
  const lines = errors.map(({ ref: r, error }) => `docker://${r}: ${(error as Error).message}`);
  const first = errors[0]?.error;
  throw new BerthError(isBerthError(first) ? first.code : 'IO', `${errors.length} errors occurred while reading ${formatReference(ref)}: ${lines.join('; ')}`, {
    cause: first,
  });
}

/**
 * A registry image already read (manifests and config) as a source: its layers download through `client`, resumed
 * with Range as any download, and are hashed once, by copyImage, which verifies every blob it moves.
 */
export function registryImageSource(client: RegistryClient, at: ImageReference, read: Image | ImageIndexBundle, close?: () => void): ImageSource {
  return imageSource(`docker://${formatReference(at)}`, read, {
    ...(close ? { close } : {}),
    openLayer: (blob) => openBlob(client, at.path, blob.digest, blob.size, DEFAULT_RETRY, { verify: false }),
  });
}

/** Opens `ref` as a source: manifests and configs are read now, layers when the copy asks for them. */
export async function openSource(store: Store, ref: TransportRef, opts: OpenSourceOptions = {}): Promise<ImageSource> {
  const where = describe(ref);
  const platform = opts.platform ? { platform: opts.platform } : {};
  switch (ref.transport) {
    case 'docker':
      return openRegistrySource(ref.ref, opts);
    case 'oci':
    case 'oci-archive': {
      const files = ref.transport === 'oci' ? new DirectoryFiles(ref.path) : await openTarArchive(ref.path, () => store.tmp.path('copy'));
      if (opts.allPlatforms) return imageSource(where, await readOciLayoutIndex(files, ref.name ? { only: ref.name } : {}));
      // The layout reader already keeps only the image whose ref.name is the one asked for.
      const picked = pick(
        await readOciLayout(files, { ...(ref.name ? { only: ref.name } : {}), ...platform }),
        undefined,
        ref.name ? `${ref.path}:${ref.name}` : ref.path,
      );
      return imageSource(where, picked.image, { names: picked.names });
    }
    case 'dir':
      return imageSource(where, opts.allPlatforms ? await readDirIndex(ref.path) : (await readDirImage(ref.path, platform)).image);
    case 'docker-archive': {
      const picked = pick(await readDockerArchive(await openTarArchive(ref.path, () => store.tmp.path('copy'))), ref.name, ref.path);
      return imageSource(where, picked.image, { names: picked.names });
    }
    case 'berth': {
      const record = findImage(await store.images(), ref.name);
      if (!record) throw new BerthError('IMAGE_UNKNOWN', `${ref.name}: image not known`);
      return imageSource(where, await readStoreImage(store, record));
    }
  }
}

export interface OpenDestinationOptions {
  registry?: RegistryDestinationOptions;
  /** Names to record for the image (berth:); default the one the reference gives. */
  names?: readonly string[];
  onProgress?: ProgressSink;
}

/** Opens `ref` as a destination: nothing is visible there until the copy commits. */
export async function openDestination(store: Store, ref: TransportRef, opts: OpenDestinationOptions = {}): Promise<ImageDestination> {
  switch (ref.transport) {
    case 'docker':
      return registryDestination(ref.ref.digest === undefined ? withDefaultTag(ref.ref) : ref.ref, opts.registry ?? {});
    case 'oci':
      return ociDirDestination(ref.path, ref.name);
    case 'oci-archive':
      return ociArchiveDestination(ref.path, ref.name);
    case 'docker-archive':
      return dockerArchiveDestination(ref.path, opts.names ?? (ref.name ? [storedName(ref.name)] : []));
    case 'dir':
      return dirDestination(ref.path);
    case 'berth':
      return storeDestination(store, opts.names ?? [storedName(ref.name)], opts.onProgress ? { onProgress: opts.onProgress } : {});
  }
}
