/**
 * GPG signing of images in registries (issue 17): `image sign` signs what a registry holds now;
 * `push --sign-by` and `copy --sign-by` sign the digest the destination ended with, after the
 * upload, so a signature never names a manifest a destination then converted.
 */
import { parseManifest } from '../../oci/manifest.js';
import { formatReference, parseNormalizedNamed, withDefaultTag, type ImageReference } from '../../oci/reference.js';
import { signToLookaside, type GpgSigningOptions } from '../../signature/sign.js';
import { manifestReference, RegistryClient, type RegistryOptions } from '../../transports/docker/index.js';
import { BerthError } from '../../util/errors.js';
import { registriesConf } from './pull.js';

export type { GpgSigningOptions } from '../../signature/sign.js';

export interface SignedManifest {
  reference: string;
  digest: string;
  /** The signature file written. */
  path: string;
}

/** A `docker://REF` (or a bare REF) normalised, `:latest` added without tag or digest. */
function dockerRefOf(name: string, what: string): ImageReference {
  const m = /^([a-z][a-z0-9-]*):(?!\d)(?!\/\/)/.exec(name);
  if (!name.startsWith('docker://') && m) throw new BerthError('USAGE', `${what} ${name}: only docker:// (registry) images can be signed`);
  const r = parseNormalizedNamed(name.startsWith('docker://') ? name.slice('docker://'.length) : name);
  return r.digest === undefined ? withDefaultTag(r) : r;
}

/**
 * Checks, before any work, that signatures can be made for `dest` (a docker:// destination of copy,
 * or push's destination), so that a copy is not done only to fail at signing.
 */
export function signableDestination(dest: string): ImageReference {
  return dockerRefOf(dest, 'signing the destination');
}

/** Signs `digest` as the image `reference` (push's and copy's result) into its lookaside. */
export async function signPushedImage(reference: string, digest: string, opts: GpgSigningOptions): Promise<SignedManifest> {
  const ref = dockerRefOf(reference, 'signing');
  const path = await signToLookaside(ref, digest, opts);
  return { reference: formatReference(ref), digest, path };
}

export interface SignImagesOptions extends GpgSigningOptions, RegistryOptions {
  /** --all: for an index, sign every image it lists too. */
  all?: boolean;
}

/**
 * podman's `image sign`: each image's manifest as its registry serves it now (an index and, with
 * --all, every manifest it lists) signed and written to the lookaside or --directory.
 */
export async function signImages(names: readonly string[], opts: SignImagesOptions): Promise<SignedManifest[]> {
  const refs = names.map((n) => dockerRefOf(n, 'image sign:'));
  const conf = opts.registriesConf ?? (await registriesConf(opts.env));
  const signed: SignedManifest[] = [];
  for (const ref of refs) {
    const client = await RegistryClient.open(ref.domain, { ...opts, registriesConf: conf }, `${ref.domain}/${ref.path}`);
    try {
      const top = await client.getManifest(ref.path, manifestReference(ref));
      const digests = [top.digest];
      const parsed = parseManifest(top.bytes, top.mediaType);
      if (opts.all && parsed.kind === 'index') digests.push(...parsed.index.manifests.map((m) => m.digest));
      for (const digest of digests) {
        signed.push({ reference: formatReference(ref), digest, path: await signToLookaside(ref, digest, opts) });
      }
    } finally {
      client.close();
    }
  }
  return signed;
}
