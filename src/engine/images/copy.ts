import { checkCompressionLevel } from '../../image/recompress.js';
import type { Platform } from '../../oci/platform.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import type { RegistryOptions } from '../../transports/docker/index.js';
import { copyImage as copyBetween, openDestination, openSource, parseTransportRef, storeDestination, type TransportRef } from '../../transports/copy/index.js';
import { BerthError } from '../../util/errors.js';
import { formatReference } from '../../oci/reference.js';
import { sourceAdmission, type TrustOptions } from './admission.js';
import { registrySigstoreSignatures } from './sigstore.js';
import type { ProgressSink } from '../../util/progress.js';

/** skopeo's transport names (docker://, oci:, oci-archive:, docker-archive:, dir:, berth:): see transports/copy/reference.ts. */
export { parseTransportRef, type TransportRef };

export interface CopyOptions {
  source?: RegistryOptions;
  /** The trust policy the source is checked against (skopeo's --policy, --registries.d). */
  trust?: TrustOptions;
  dest?: RegistryOptions;
  /** Fail rather than write a manifest with other bytes than the source's (a format conversion). */
  preserveDigests?: boolean;
  /**
   * skopeo's --multi-arch: 'system' (default) copies the one image for `platform` out of an index; 'all' (--all)
   * the index with every child; 'index-only' the index alone (its children must be at the destination already).
   */
  multiArch?: MultiArch;
  /** The platform to take from an index (skopeo's --override-os/--override-arch/--override-variant); default the host's. */
  platform?: Platform;
  /** Layers recompressed to this (skopeo's --dest-compress-format/--dest-compress-level); zstd forces OCI manifests. */
  compression?: { format: 'gzip' | 'zstd'; level?: number };
}

export type MultiArch = 'system' | 'all' | 'index-only';

export function parseMultiArch(v: string): MultiArch {
  if (v === 'system' || v === 'all' || v === 'index-only') return v;
  throw new BerthError('USAGE', `--multi-arch ${JSON.stringify(v)}: use system, all or index-only`);
}

/**
 * An image read from an archive, layout or skopeo directory (`docker-archive:FILE`,
 * `oci-archive:FILE`, `oci:DIR`, `dir:DIR`, each with an optional `:REF`) and stored with the names
 * it carries: what run and create do with such a reference, as podman pulls it into its store first.
 */
export async function storeFromTransport(store: Store, input: string, onProgress?: ProgressSink): Promise<ImageRecord> {
  const src = parseTransportRef(input);
  if (src.transport === 'docker' || src.transport === 'berth') throw new BerthError('USAGE', `${input}: not an archive, layout or directory`);
  const source = await openSource(store, src);
  try {
    const dest = storeDestination(store, source.names, onProgress ? { onProgress } : {});
    try {
      await copyBetween(source, dest, { tmpDir: () => store.tmp.make('copy') });
      return dest.record!;
    } finally {
      await dest.close();
    }
  } finally {
    await source.close();
  }
}

/** The manifest (or, with --all, index) digest written at the destination. */
export async function copyImage(store: Store, from: string, to: string, opts: CopyOptions = {}): Promise<string> {
  const src = parseTransportRef(from);
  const dst = parseTransportRef(to);
  const multiArch = opts.multiArch ?? 'system';
  if (opts.compression && dst.transport === 'docker-archive') {
    throw new BerthError('USAGE', `--dest-compress-format: ${to} holds uncompressed layers (docker save's format)`);
  }
  if (opts.compression) checkCompressionLevel(opts.compression.format, opts.compression.level);
  if (multiArch !== 'system' && (dst.transport === 'docker-archive' || dst.transport === 'berth')) {
    throw new BerthError(
      'USAGE',
      `--multi-arch ${multiArch}: ${to}: the ${dst.transport} transport cannot hold an image index; copy one platform (without --all)`,
    );
  }
  let tmp: Promise<string> | undefined;
  const admit = sourceAdmission(src, opts.trust ?? {}, (digest) =>
    src.transport === 'docker' ? registrySigstoreSignatures(formatReference(src.ref), digest, opts.source ?? {}) : Promise.resolve([]),
  );
  const source = await openSource(store, src, {
    ...(opts.source ? { registry: opts.source } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(multiArch !== 'system' ? { allPlatforms: true } : {}),
  });
  try {
    // Judged before the destination is opened, which would make a layout or archive to leave behind.
    if (admit) await admit(await source.getManifest());
    const dest = await openDestination(store, dst, { registry: opts.dest ?? {} });
    try {
      const result = await copyBetween(source, dest, {
        multiArch,
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(opts.compression ? { compression: opts.compression } : {}),
        ...(opts.preserveDigests ? { preserveDigests: true } : {}),
        tmpDir: () => (tmp ??= store.tmp.make('recompress')),
      });
      return result.digest;
    } finally {
      await dest.close();
    }
  } finally {
    await source.close();
  }
}
