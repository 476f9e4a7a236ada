import type { KeyObject } from 'node:crypto';
import { checkCompressionLevel } from '../../image/recompress.js';
import type { Platform } from '../../oci/platform.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import type { RegistryOptions } from '../../transports/docker/index.js';
import { copyImage as copyBetween, openDestination, openSource, parseTransportRef, storeDestination, type TransportRef } from '../../transports/copy/index.js';
import { BerthError } from '../../util/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import { formatReference } from '../../oci/reference.js';
import { createSigstoreSignature } from '../../signature/sigstore.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import { VERSION } from '../../util/version.js';
import { sourceAdmission, type TrustOptions } from './admission.js';
import { checkSignaturesStorable, keepsSignatures, putSignatures, sourceSignatures, type SignatureStoreOptions } from './copy-signatures.js';
import { signableDestination } from './sign.js';
import { attachSigstoreSignatures, loadSigstorePrivateKey, registrySigstoreSignatures, requireSigstoreAttachments } from './sigstore.js';
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
  /** skopeo's --remove-signatures: leave the source's signatures behind (without it they go with the image). */
  removeSignatures?: boolean;
  /** `--sign-by-sigstore-private-key` (with `--sign-passphrase-file`'s passphrase): a sigstore signature of the copy added to those copied. */
  signBySigstorePrivateKey?: { path: string; passphrase: Uint8Array };
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
  const registriesDir = opts.trust?.registriesDir;
  // Refused before anything moves: a copy done only to fail at signing would leave an unsigned image behind.
  let sigstoreKey: KeyObject | undefined;
  if (opts.signBySigstorePrivateKey) {
    const ref = signableDestination(to);
    await requireSigstoreAttachments(ref, registriesDir);
    sigstoreKey = await loadSigstorePrivateKey(opts.signBySigstorePrivateKey.path, opts.signBySigstorePrivateKey.passphrase);
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
    const top = await source.getManifest();
    if (admit) await admit(top);
    const carried =
      opts.removeSignatures || !keepsSignatures(dst) ? [] : await signaturesToCarry(src, top, multiArch, { registriesDir, registry: opts.source ?? {} });
    const all = carried.flatMap((c) => c.signatures);
    await checkSignaturesStorable(dst, to, all, { registriesDir });
    const dest = await openDestination(store, dst, { registry: opts.dest ?? {} });
    let digest: string;
    try {
      const result = await copyBetween(source, dest, {
        multiArch,
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(opts.compression ? { compression: opts.compression } : {}),
        ...(opts.preserveDigests ? { preserveDigests: true } : {}),
        // A signature names the manifest's digest: what carries one must arrive with the same digest.
        ...(all.length > 0 ? { keepDigestsFor: `Would invalidate signatures (copy with --remove-signatures to leave the source's ${all.length} behind)` } : {}),
        tmpDir: () => (tmp ??= store.tmp.make('recompress')),
      });
      digest = result.digest;
    } finally {
      await dest.close();
    }
    // Written once the destination holds the image under its final digest; a failure here fails the copy.
    const writeTo = { registriesDir, registry: opts.dest ?? {} };
    for (const c of carried) await putSignatures(dst, c.digest, c.signatures, { ...writeTo, instance: c.instance });
    if (sigstoreKey) {
      const ref = signableDestination(to);
      const signature = createSigstoreSignature(
        sigstoreKey,
        { dockerReference: formatReference(ref), manifestDigest: digest },
        { creator: `berth ${VERSION}`, timestamp: Math.floor(Date.now() / 1000) },
      );
      await attachSigstoreSignatures(ref, digest, [signature], opts.dest ?? {});
    }
    return digest;
  } finally {
    await source.close();
  }
}

/** The signatures a copy carries for one manifest: the top one's, or (`instance`) an index child's. */
interface CarriedSignatures {
  digest: string;
  instance: boolean;
  signatures: UnverifiedSignature[];
}

/**
 * What the copy of `top` carries: its signatures and, when an index is copied whole (`--all`), each
 * child's, as containers/image copies an instance's signatures with it. None found is an empty list.
 */
async function signaturesToCarry(
  src: TransportRef,
  top: { digest: string; bytes: Uint8Array; mediaType: string },
  multiArch: MultiArch,
  opts: SignatureStoreOptions,
): Promise<CarriedSignatures[]> {
  const carried: CarriedSignatures[] = [];
  const add = async (digest: string, instance: boolean) => {
    const signatures = await sourceSignatures(src, digest, opts);
    if (signatures.length > 0) carried.push({ digest, instance, signatures });
  };
  await add(top.digest, false);
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (multiArch === 'all' && parsed.kind === 'index') for (const m of parsed.index.manifests) await add(m.digest, true);
  return carried;
}
