import { writeFile } from 'node:fs/promises';
import { copyImage } from '../../engine/copy.js';
import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { registryOptions } from './_registry-opts.js';

interface CopyFlags {
  tlsVerify?: boolean | string;
  srcTlsVerify?: boolean | string;
  destTlsVerify?: boolean | string;
  authfile?: string;
  srcAuthfile?: string;
  destAuthfile?: string;
  srcCreds?: string;
  destCreds?: string;
  srcCertDir?: string;
  destCertDir?: string;
  preserveDigests?: boolean;
  digestfile?: string;
  quiet?: boolean;
}

/** `berth copy SRC DST`: skopeo copy between docker://, oci:, oci-archive:, docker-archive: and berth:. */
export async function run(g: GlobalOptions, from: string, to: string, f: CopyFlags): Promise<void> {
  const side = (tls: boolean | string | undefined, authfile: string | undefined, creds: string | undefined, certDir: string | undefined) =>
    registryOptions({
      ...(tls ?? f.tlsVerify) !== undefined ? { tlsVerify: (tls ?? f.tlsVerify)! } : {},
      ...(authfile ?? f.authfile ? { authfile: (authfile ?? f.authfile)! } : {}),
      ...(creds ? { creds } : {}),
      ...(certDir ? { certDir } : {}),
    });
  await withStore(engineOptions(g), async (store) => {
    if (!f.quiet) process.stderr.write('Getting image source signatures\n');
    const digest = await copyImage(store, from, to, {
      source: side(f.srcTlsVerify, f.srcAuthfile, f.srcCreds, f.srcCertDir),
      dest: side(f.destTlsVerify, f.destAuthfile, f.destCreds, f.destCertDir),
      ...(f.preserveDigests ? { preserveDigests: true } : {}),
    });
    if (!f.quiet) process.stderr.write('Writing manifest to image destination\n');
    if (f.digestfile) await writeFile(f.digestfile, digest);
  });
}
