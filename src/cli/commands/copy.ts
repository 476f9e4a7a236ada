import { writeUserFile } from '../../util/user-file.js';
import { copyImage, hostPlatform, signableDestination, signPushedImage, type MultiArch, parseMultiArch, type Platform } from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { promptPassphrase, readPassphraseFile } from './_passphrase.js';
import { gpgSigning, type SigningFlags } from './_sign-opts.js';
import { compressionFormat, compressionLevel, endRegistryOptions, type TwoEndedRegistryFlags } from './_registry-opts.js';

interface CopyFlags extends TwoEndedRegistryFlags, SigningFlags {
  preserveDigests?: boolean;
  all?: boolean;
  multiArch?: string;
  overrideOs?: string;
  overrideArch?: string;
  overrideVariant?: string;
  destCompressFormat?: string;
  destCompressLevel?: string;
  digestfile?: string;
  quiet?: boolean;
  /** skopeo's --policy (its global flag; berth takes it on copy), or podman's name for it. */
  policy?: string;
  signaturePolicy?: string;
  removeSignatures?: boolean;
  signBySigstorePrivateKey?: string;
}

/** skopeo's --override-os/--override-arch/--override-variant over the host's platform; undefined when none is given. */
function overridePlatform(f: CopyFlags): Platform | undefined {
  if (!f.overrideOs && !f.overrideArch && !f.overrideVariant) return undefined;
  const host = hostPlatform();
  return {
    os: f.overrideOs ?? host.os,
    architecture: f.overrideArch ?? host.architecture,
    ...(f.overrideVariant ? { variant: f.overrideVariant } : !f.overrideArch && host.variant ? { variant: host.variant } : {}),
  };
}

function multiArchOf(f: CopyFlags): MultiArch | undefined {
  const asked = f.multiArch !== undefined ? parseMultiArch(f.multiArch) : undefined;
  if (f.all && asked !== undefined && asked !== 'all') throw new BerthError('USAGE', `--all and --multi-arch ${asked} contradict each other`);
  return f.all ? 'all' : asked;
}

/** `berth copy SRC DST`: skopeo copy between docker://, oci:, oci-archive:, docker-archive: and berth:. */
export async function run(g: GlobalOptions, from: string, to: string, f: CopyFlags): Promise<void> {
  const multiArch = multiArchOf(f);
  const platform = overridePlatform(f);
  const format = compressionFormat(f.destCompressFormat, '--dest-compress-format');
  const level = compressionLevel(f.destCompressLevel, '--dest-compress-level');
  if (level !== undefined && !format) throw new BerthError('USAGE', '--dest-compress-level needs --dest-compress-format');
  const signing = gpgSigning(f, f.signBySigstorePrivateKey !== undefined);
  // Refused before copying: a copy done only to fail at signing would leave an unsigned image behind.
  if (signing) signableDestination(to);
  const signBySigstore = f.signBySigstorePrivateKey
    ? {
        path: f.signBySigstorePrivateKey,
        passphrase: f.signPassphraseFile ? await readPassphraseFile(f.signPassphraseFile) : await promptPassphrase(f.signBySigstorePrivateKey),
      }
    : undefined;
  await withStore(engineOptions(g), async (store) => {
    if (!f.quiet) process.stderr.write('Getting image source signatures\n');
    const digest = await copyImage(store, from, to, {
      source: endRegistryOptions(f, 'src'),
      dest: endRegistryOptions(f, 'dest'),
      ...(f.preserveDigests ? { preserveDigests: true } : {}),
      ...(f.removeSignatures ? { removeSignatures: true } : {}),
      ...(signBySigstore ? { signBySigstorePrivateKey: signBySigstore } : {}),
      ...(multiArch ? { multiArch } : {}),
      ...(platform ? { platform } : {}),
      ...(format ? { compression: { format, ...(level !== undefined ? { level } : {}) } } : {}),
      trust: {
        ...((f.policy ?? f.signaturePolicy) !== undefined ? { signaturePolicy: (f.policy ?? f.signaturePolicy)! } : {}),
        ...(f['registries.d'] !== undefined ? { registriesDir: f['registries.d'] } : {}),
      },
    });
    if (signing) {
      // The digest the destination ended with (after any conversion) is the one signed.
      if (!f.quiet) process.stderr.write('Signing manifest using simple signing\n');
      await signPushedImage(to, digest, signing);
    }
    if (!f.quiet) process.stderr.write('Writing manifest to image destination\n');
    if (f.digestfile) await writeUserFile(f.digestfile, digest);
  });
}
