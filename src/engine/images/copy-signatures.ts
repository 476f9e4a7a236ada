/**
 * An image's signatures where it is read from and where a copy writes it (issue 17), as
 * containers/image's copy carries them unless told to remove them. Read: `docker://` from the
 * lookaside registries.d names and, where it says so, the registry's `sha256-<hex>.sig` attachments;
 * `dir:` from its `signature-N` files (`<hex>.signature-N` for an index's child). Written under the
 * digest the destination ended with: `docker://` GPG signatures to the lookaside (its staging one
 * when set) and sigstore ones as attachments (only where registries.d enables them); `dir:` as
 * `signature-N` files. `oci:`, `oci-archive:` and `docker-archive:` hold none (containers/image
 * refuses to store any there); berth's own store keeps none (pull stores none either).
 */
import { formatReference, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import { lookasideFolderURL, putLookasideSignatures } from '../../signature/lookaside.js';
import { builtinLookaside, loadRegistriesD, lookasideTopLevel, registriesDirPath } from '../../signature/registries-d.js';
import { blobOfSignature } from '../../signature/sigstore-blob.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import type { TransportRef } from '../../transports/copy/index.js';
import type { RegistryOptions } from '../../transports/docker/index.js';
import { writeDirSignatures } from '../../transports/dir.js';
import { BerthError } from '../../util/errors.js';
import { dirSignatures, registrySignatures } from './image-signatures.js';
import { attachSigstoreSignatures, registrySigstoreSignatures, requireSigstoreAttachments } from './sigstore.js';

export interface SignatureStoreOptions {
  /** `--registries.d DIR`. */
  registriesDir?: string | undefined;
  /** The registry options of the end read from or written to (its attachments). */
  registry?: RegistryOptions;
}

/** The signatures `src` holds for its manifest `digest` (none for transports that keep none). */
export async function sourceSignatures(src: TransportRef, digest: string, opts: SignatureStoreOptions): Promise<UnverifiedSignature[]> {
  switch (src.transport) {
    case 'docker':
      return registrySignatures(src.ref, digest, opts.registriesDir, (d) => registrySigstoreSignatures(formatReference(src.ref), d, opts.registry ?? {}));
    case 'dir':
      return dirSignatures(src.path, digest);
    default:
      return [];
  }
}

/** Whether signatures copied to `dst` are kept: berth's store keeps none, as pull keeps none. */
export function keepsSignatures(dst: TransportRef): boolean {
  return dst.transport !== 'berth';
}

const dockerRefOf = (ref: ImageReference): ImageReference => (ref.digest === undefined ? withDefaultTag(ref) : ref);

/**
 * Refuses, before anything is copied, signatures `dst` cannot store: any at all in an OCI layout or
 * an archive (as skopeo), sigstore ones where registries.d enables no attachments, GPG ones where the
 * lookaside to write to is not a local folder.
 */
export async function checkSignaturesStorable(
  dst: TransportRef,
  to: string,
  signatures: readonly UnverifiedSignature[],
  opts: SignatureStoreOptions,
): Promise<void> {
  if (signatures.length === 0) return;
  switch (dst.transport) {
    case 'oci':
    case 'oci-archive':
    case 'docker-archive':
      throw new BerthError(
        'USAGE',
        `Can not copy signatures to ${to}: Pushing signatures to this destination is not supported (copy with --remove-signatures to leave the source's ${signatures.length} signature${signatures.length === 1 ? '' : 's'} behind)`,
      );
    case 'docker': {
      const ref = dockerRefOf(dst.ref);
      if (signatures.some((s) => s.kind === 'sigstore')) await requireSigstoreAttachments(ref, opts.registriesDir);
      if (signatures.some((s) => s.kind === 'simple-signing')) {
        const config = await loadRegistriesD(await registriesDirPath(opts.registriesDir));
        const base = lookasideTopLevel(config, ref, true) ?? builtinLookaside();
        // Any digest names the folder: only its scheme matters here.
        if (lookasideFolderURL(base, ref, `sha256:${'0'.repeat(64)}`).protocol !== 'file:')
          throw new BerthError('USAGE', `writing signatures to ${base} is not supported: set a file:// lookaside-staging in registries.d`);
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Writes `signatures` as those of the manifest `digest` at `dst` (an index's child with `instance`):
 * they replace what the lookaside or the directory held for it, and are added to its attachments.
 */
export async function putSignatures(
  dst: TransportRef,
  digest: string,
  signatures: readonly UnverifiedSignature[],
  opts: SignatureStoreOptions & { instance?: boolean },
): Promise<void> {
  if (signatures.length === 0 || !keepsSignatures(dst)) return;
  switch (dst.transport) {
    case 'docker': {
      const ref = dockerRefOf(dst.ref);
      const gpg = signatures.filter((s) => s.kind === 'simple-signing').map((s) => s.bytes);
      if (gpg.length > 0) {
        const config = await loadRegistriesD(await registriesDirPath(opts.registriesDir));
        await putLookasideSignatures(lookasideTopLevel(config, ref, true) ?? builtinLookaside(), ref, digest, gpg);
      }
      const sigstore = signatures.flatMap((s) => (s.kind === 'sigstore' ? [{ payload: s.payload, annotations: s.annotations }] : []));
      await attachSigstoreSignatures(ref, digest, sigstore, opts.registry ?? {});
      return;
    }
    case 'dir':
      return writeDirSignatures(dst.path, signatures.map(blobOfSignature), opts.instance ? digest : undefined);
    default:
      // checkSignaturesStorable refused these before the copy.
      throw new BerthError('USAGE', `Can not copy signatures to ${dst.transport}: Pushing signatures to this destination is not supported`);
  }
}
