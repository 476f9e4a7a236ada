/**
 * The signatures an image has where it is read from (issue 17), for the trust policy and for a copy
 * that carries them: a registry image's in the lookaside registries.d names and, where it says so,
 * the registry's attachments; a `dir:` image's in its `signature-N` files. Kept apart from the
 * writing side (copy-signatures.ts), which needs the registry client's push.
 */
import { formatReference, type ImageReference } from '../../oci/reference.js';
import { readLookasideSignatures } from '../../signature/lookaside.js';
import { builtinLookaside, loadRegistriesD, lookasideTopLevel, registriesDirPath, useSigstoreAttachments } from '../../signature/registries-d.js';
import { signatureFromBlob } from '../../signature/sigstore-blob.js';
import type { UnverifiedSignature } from '../../signature/types.js';
import { dirSignaturesOf } from '../../transports/dir.js';

/**
 * The signatures of `ref`'s manifest `digest`: those in the lookaside registries.d names for it, and
 * the registry's attachments where registries.d says to use them (`attachments`: read from where the
 * image comes from, a mirror maybe).
 */
export async function registrySignatures(
  ref: ImageReference,
  digest: string,
  registriesDir: string | undefined,
  attachments: (digest: string) => Promise<UnverifiedSignature[]>,
): Promise<UnverifiedSignature[]> {
  const config = await loadRegistriesD(await registriesDirPath(registriesDir));
  const base = lookasideTopLevel(config, ref, false) ?? builtinLookaside();
  const found = (await readLookasideSignatures(base, ref, digest)).map((b) => signatureFromBlob(b, `signature of ${formatReference(ref)}`));
  if (useSigstoreAttachments(config, ref)) found.push(...(await attachments(digest)));
  return found;
}

/** The signature files of the manifest `digest` in a `dir:` image. */
export async function dirSignatures(dir: string, digest: string): Promise<UnverifiedSignature[]> {
  return (await dirSignaturesOf(dir, digest)).map((b) => signatureFromBlob(b, `dir:${dir}: signature of ${digest}`));
}
