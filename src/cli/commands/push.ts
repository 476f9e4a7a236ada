import { writeUserFile } from '../../util/user-file.js';
import { withStore } from '../../engine/index.js';
import { imageEvent } from '../../engine/system/index.js';
import { findImage, type PushFormat, pushImage, signPushedImage } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { progressReporter } from '../progress.js';
import { gpgSigning, type SigningFlags } from './_sign-opts.js';
import { promptPassphrase, readPassphraseFile } from './_passphrase.js';
import { compressionFormat, compressionLevel, parseBool, registryOptions, type RegistryFlags } from './_registry-opts.js';

export interface PushFlags extends RegistryFlags, SigningFlags {
  format?: string;
  digestfile?: string;
  quiet?: boolean;
  removeSignatures?: boolean;
  compressionFormat?: string;
  compressionLevel?: string;
  forceCompression?: boolean | string;
  signBySigstorePrivateKey?: string;
  signPassphraseFile?: string;
}

function pushFormat(f: string | undefined): PushFormat | undefined {
  if (f === undefined) return undefined;
  if (f === 'oci') return 'oci';
  if (f === 'v2s2' || f === 'docker') return 'v2s2';
  if (f === 'v2s1') throw new BerthError('USAGE', 'the v2s1 (Docker schema 1) format is not supported: use oci or v2s2');
  throw new BerthError('USAGE', `unknown manifest format ${JSON.stringify(f)}: use oci or v2s2`);
}

/** `berth push IMAGE [DEST]`: podman's progress lines on stderr; `--digestfile` gets the manifest digest. */
export async function run(g: GlobalOptions, image: string, dest: string | undefined, opts: PushFlags): Promise<void> {
  const format = pushFormat(opts.format);
  const compression = compressionFormat(opts.compressionFormat, '--compression-format');
  const level = compressionLevel(opts.compressionLevel, '--compression-level');
  // podman: --force-compression defaults to true when --compression-format is given.
  const force = opts.forceCompression === undefined ? true : parseBool(opts.forceCompression, '--force-compression');
  if (compression === 'zstd' && format === 'v2s2') {
    throw new BerthError('USAGE', '--compression-format zstd needs an OCI manifest: Docker schema 2 (v2s2) has no zstd layer type');
  }
  const signing = gpgSigning(opts, opts.signBySigstorePrivateKey !== undefined);
  const signBySigstore = opts.signBySigstorePrivateKey
    ? {
        path: opts.signBySigstorePrivateKey,
        passphrase: opts.signPassphraseFile ? await readPassphraseFile(opts.signPassphraseFile) : await promptPassphrase(opts.signBySigstorePrivateKey),
      }
    : undefined;
  const progress = await progressReporter(opts.quiet);
  if (!opts.quiet) process.stderr.write('Getting image source signatures\n');
  const { digest, reference } = await withStore(engineOptions(g), async (store) => {
    const pushed = await pushImage(store, image, dest, {
      ...registryOptions(opts),
      ...(format ? { format } : {}),
      // Without a format, --compression-level is the level of the default gzip of uncompressed layers.
      ...(compression || level !== undefined
        ? { compression: { ...(compression ? { format: compression, force } : {}), ...(level !== undefined ? { level } : {}) } }
        : {}),
      ...(progress.sink ? { onProgress: progress.sink } : {}),
      ...(signBySigstore ? { signBySigstorePrivateKey: signBySigstore } : {}),
      ...(opts['registries.d'] !== undefined ? { registriesDir: opts['registries.d'] } : {}),
    });
    await imageEvent(store, 'push', findImage(await store.images(), image)?.id, pushed.reference);
    return pushed;
  }).finally(progress.stop);
  if (signing) {
    // Signed after the upload: the digest is the one the registry holds, whatever the push converted.
    if (!opts.quiet) process.stderr.write('Signing manifest using simple signing\n');
    await signPushedImage(reference, digest, signing);
  }
  // podman's lines for the signature made after the manifest was written.
  if (signBySigstore && !opts.quiet) process.stderr.write('Creating signature: Signing image using a sigstore signature\nStoring signatures\n');
  if (opts.digestfile) await writeUserFile(opts.digestfile, digest);
}
