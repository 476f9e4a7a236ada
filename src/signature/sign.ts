/**
 * Signing an image's manifest digest with GPG and storing the signature where containers/image
 * looks for it: the lookaside registries.d names for a docker:// image (the staging one when set;
 * the built-in local folder when none is configured), or a folder the caller names.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ImageReference } from '../oci/reference.js';
import { formatReference } from '../oci/reference.js';
import { VERSION } from '../util/version.js';
import { gpgSign } from './gpg.js';
import { addLookasideSignature } from './lookaside.js';
import { builtinLookaside, loadRegistriesD, lookasideTopLevel, registriesDirPath } from './registries-d.js';
import { makePayload } from './simple-signing.js';

export interface GpgSigningOptions {
  /** --sign-by: the key's fingerprint in the user's keyring. */
  signBy: string;
  /** --sign-passphrase-file */
  passphraseFile?: string;
  /** --registries.d */
  registriesDir?: string;
  /** podman's `image sign --directory`: a lookaside folder to write to instead of registries.d's. */
  directory?: string;
}

/** The signature bytes claiming that `digest` is the image `ref` (its full normalized name). */
export async function signClaim(ref: ImageReference, digest: string, opts: GpgSigningOptions): Promise<Uint8Array> {
  const payload = makePayload(
    { dockerReference: formatReference(ref), manifestDigest: digest },
    { creator: `berth ${VERSION}`, timestamp: Math.floor(Date.now() / 1000) },
  );
  return gpgSign(payload, { signBy: opts.signBy, ...(opts.passphraseFile !== undefined ? { passphraseFile: opts.passphraseFile } : {}) });
}

/** The lookaside base URL that signatures of `ref` are written to. */
export async function writeLookasideFor(ref: ImageReference, opts: Pick<GpgSigningOptions, 'registriesDir' | 'directory'>): Promise<string> {
  if (opts.directory !== undefined) return pathToFileURL(resolve(opts.directory)).href;
  const config = await loadRegistriesD(await registriesDirPath(opts.registriesDir));
  return lookasideTopLevel(config, ref, true) ?? builtinLookaside();
}

/** Signs `digest` as the docker image `ref` and adds the signature to its lookaside; returns the file written. */
export async function signToLookaside(ref: ImageReference, digest: string, opts: GpgSigningOptions): Promise<string> {
  const base = await writeLookasideFor(ref, opts);
  const signature = await signClaim(ref, digest, opts);
  return addLookasideSignature(base, ref, digest, signature);
}
