import type { GpgSigningOptions } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';

/** The GPG signing flags of push, copy and image sign (podman's and skopeo's names). */
export interface SigningFlags {
  signBy?: string;
  signPassphraseFile?: string;
  'registries.d'?: string;
}

/**
 * --sign-by's options for the engine, or undefined without --sign-by (a passphrase file alone is a
 * usage error, unless `otherKey`: push's sigstore key takes it too).
 */
export function gpgSigning(f: SigningFlags, otherKey = false): GpgSigningOptions | undefined {
  if (f.signBy === undefined) {
    if (f.signPassphraseFile !== undefined && !otherKey)
      throw new BerthError('USAGE', '--sign-passphrase-file needs --sign-by or --sign-by-sigstore-private-key');
    return undefined;
  }
  if (f.signBy === '') throw new BerthError('USAGE', '--sign-by needs a key fingerprint');
  return {
    signBy: f.signBy,
    ...(f.signPassphraseFile !== undefined ? { passphraseFile: f.signPassphraseFile } : {}),
    ...(f['registries.d'] !== undefined ? { registriesDir: f['registries.d'] } : {}),
  };
}
