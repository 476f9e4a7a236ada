import { generateSigstoreKey } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import type { GlobalOptions } from '../context.js';
import { promptPassphrase, readPassphraseFile } from './_passphrase.js';

export interface GenerateSigstoreKeyFlags {
  outputPrefix?: string;
  passphraseFile?: string;
}

/** `berth generate-sigstore-key --output-prefix P [--passphrase-file F]`: skopeo's command, cosign's key files. */
export async function run(_g: GlobalOptions, opts: GenerateSigstoreKeyFlags): Promise<void> {
  if (!opts.outputPrefix) throw new BerthError('USAGE', 'Usage: generate-sigstore-key --output-prefix PREFIX');
  const passphrase = opts.passphraseFile ? await readPassphraseFile(opts.passphraseFile) : await promptPassphrase(`${opts.outputPrefix}.private`);
  const { privateKeyPath, publicKeyPath } = await generateSigstoreKey(opts.outputPrefix, passphrase);
  process.stdout.write(`Key written to ${JSON.stringify(privateKeyPath)} and ${JSON.stringify(publicKeyPath)}\n`);
}
