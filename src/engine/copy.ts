import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NamedImage } from '../image/image.js';
import { parseNormalizedNamed, withDefaultTag, type ImageReference } from '../oci/reference.js';
import { findImage, storedName } from '../store/lookup.js';
import type { Store } from '../store/store.js';
import { readDockerArchive, writeDockerArchive } from '../transports/docker-archive.js';
import { readRegistryImage, writeRegistryImage, type RegistryOptions } from '../transports/docker/index.js';
import { readDirImage, writeDirImage } from '../transports/dir.js';
import { DirectoryFiles, openTarArchive } from '../transports/files.js';
import { readOciLayout, writeOciArchive, writeOciDir } from '../transports/oci-layout.js';
import { readStoreImage, writeStoreImage } from '../transports/store.js';
import { BerthError } from '../util/errors.js';

/**
 * skopeo copy: one image from any transport to any other, streamed (layers go from the source's
 * reader straight into the destination's writer).
 *
 *   docker://REF                 a registry
 *   oci:DIR[:REF]                an OCI layout directory (REF: the org.opencontainers.image.ref.name)
 *   oci-archive:FILE[:REF]       a tar of an OCI layout
 *   docker-archive:FILE[:REF]    docker save's format (REF: a RepoTag in it, or the name to write)
 *   dir:DIR                      skopeo's directory of loose files (manifest.json and blobs by digest)
 *   berth:NAME                   berth's own store (containers-storage:NAME is taken to mean it too)
 */
export type TransportRef =
  | { transport: 'docker'; ref: ImageReference }
  | { transport: 'oci' | 'oci-archive' | 'docker-archive'; path: string; name?: string }
  | { transport: 'dir'; path: string }
  | { transport: 'berth'; name: string };

export function parseTransportRef(input: string): TransportRef {
  const colon = input.indexOf(':');
  const transport = colon === -1 ? '' : input.slice(0, colon);
  const rest = input.slice(colon + 1);
  switch (transport) {
    case 'docker': {
      if (!rest.startsWith('//')) throw new BerthError('USAGE', `${input}: a docker transport reference is docker://NAME`);
      return { transport: 'docker', ref: parseNormalizedNamed(rest.slice(2)) };
    }
    case 'oci':
    case 'oci-archive':
    case 'docker-archive': {
      // PATH[:REF]: the path is up to the first colon (skopeo's rule), the rest names the image.
      const sep = rest.indexOf(':');
      const path = sep === -1 ? rest : rest.slice(0, sep);
      const name = sep === -1 ? undefined : rest.slice(sep + 1);
      if (path === '') throw new BerthError('USAGE', `${input}: a path is needed after ${transport}:`);
      return { transport, path, ...(name ? { name } : {}) };
    }
    case 'dir':
      if (rest === '') throw new BerthError('USAGE', `${input}: a path is needed after dir:`);
      return { transport: 'dir', path: rest };
    case 'berth':
    case 'containers-storage':
      if (rest === '') throw new BerthError('USAGE', `${input}: an image name is needed after ${transport}:`);
      return { transport: 'berth', name: rest };
    default:
      throw new BerthError('USAGE', `${input}: unknown transport "${transport}": use docker://, oci:, oci-archive:, docker-archive:, dir: or berth:`);
  }
}

export interface CopyOptions {
  source?: RegistryOptions;
  dest?: RegistryOptions;
  /** Fail rather than write a manifest with other bytes than the source's (a format conversion). */
  preserveDigests?: boolean;
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

async function readSource(store: Store, src: TransportRef, opts: CopyOptions): Promise<NamedImage> {
  switch (src.transport) {
    case 'docker':
      return { image: await readRegistryImage(src.ref, opts.source ?? {}), names: [] };
    case 'oci':
    case 'oci-archive': {
      const files = src.transport === 'oci' ? new DirectoryFiles(src.path) : await openTarArchive(src.path, () => store.tmp.path('copy'));
      // The layout reader already keeps only the image whose ref.name is the one asked for.
      return pick(await readOciLayout(files, src.name ? { only: src.name } : {}), undefined, src.name ? `${src.path}:${src.name}` : src.path);
    }
    case 'dir':
      return readDirImage(src.path);
    case 'docker-archive':
      return pick(await readDockerArchive(await openTarArchive(src.path, () => store.tmp.path('copy'))), src.name, src.path);
    case 'berth': {
      const record = findImage(await store.images(), src.name);
      if (!record) throw new BerthError('IMAGE_UNKNOWN', `${src.name}: image not known`);
      return { image: await readStoreImage(store, record), names: [] };
    }
  }
}

/** A file written beside its destination and renamed over it when whole. */
async function writeFileTransport(path: string, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await write(createWriteStream(tmp) as unknown as NodeJS.WritableStream);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The manifest digest written at the destination. */
export async function copyImage(store: Store, from: string, to: string, opts: CopyOptions = {}): Promise<string> {
  const src = parseTransportRef(from);
  const dst = parseTransportRef(to);
  const { image } = await readSource(store, src, opts);
  const isOci = image.manifest.mediaType === 'application/vnd.oci.image.manifest.v1+json';
  if (opts.preserveDigests && !isOci && (dst.transport === 'oci' || dst.transport === 'oci-archive')) {
    throw new BerthError('USAGE', `--preserve-digests: ${to} stores OCI manifests only, and the source's is ${image.manifest.mediaType} (its digest would change)`);
  }
  switch (dst.transport) {
    case 'docker': {
      const ref = dst.ref.digest === undefined ? withDefaultTag(dst.ref) : dst.ref;
      const written = await writeRegistryImage(ref, image, { ...(opts.dest ?? {}) });
      if (opts.preserveDigests && written.digest !== image.manifest.digest) {
        throw new BerthError('USAGE', `--preserve-digests: the registry took a converted manifest (${written.digest}, not ${image.manifest.digest})`);
      }
      return written.digest;
    }
    case 'oci':
      await writeOciDir([{ image, names: dst.name ? [dst.name] : [] }], dst.path);
      break;
    case 'oci-archive':
      await writeFileTransport(dst.path, (out) => writeOciArchive([{ image, names: dst.name ? [dst.name] : [] }], out as never));
      break;
    case 'docker-archive':
      await writeFileTransport(dst.path, (out) => writeDockerArchive([{ image, names: dst.name ? [storedName(dst.name)] : [] }], out as never));
      break;
    case 'dir':
      await writeDirImage(image, dst.path);
      break;
    case 'berth':
      await writeStoreImage(store, { image, names: [storedName(dst.name)] });
      break;
  }
  return image.manifest.digest;
}
