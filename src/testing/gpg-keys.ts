import { ok } from './cli.js';

/**
 * GPG keys for the signing tests, made in a private keyring (GNUPGHOME=`home`, a 0700 directory the
 * test made) with Debian's gpg, as a user would make them.
 */

const gpg = (home: string, args: string[]) => ok('gpg', ['--batch', '--no-tty', ...args], { env: { GNUPGHOME: home } });

/** Makes a key for `name` (`berth NAME <NAME@berth.test>`), with the passphrase in `passphraseFile` or none; its primary fingerprint. */
export async function makeGpgKey(home: string, name: string, opts: { passphraseFile?: string } = {}): Promise<string> {
  const passphrase = opts.passphraseFile !== undefined ? ['--passphrase-file', opts.passphraseFile] : ['--passphrase', ''];
  await gpg(home, ['--pinentry-mode', 'loopback', ...passphrase, '--quick-gen-key', `berth ${name} <${name}@berth.test>`, 'default', 'default', 'never']);
  // A key's primary fingerprint is the first fpr line of its listing; its subkeys' follow.
  const listing = (await gpg(home, ['--with-colons', '--list-secret-keys', `${name}@berth.test`])).stdout;
  const fpr =
    listing
      .split('\n')
      .find((l) => l.startsWith('fpr:'))
      ?.split(':')[9] ?? '';
  if (!fpr) throw new Error(`gpg made no key for ${name}: ${listing}`);
  return fpr;
}

/** Writes the public key `fpr` of the keyring to `file`, as `gpg --export` writes it (binary). */
export async function exportGpgKey(home: string, fpr: string, file: string): Promise<void> {
  await gpg(home, ['--yes', '--output', file, '--export', fpr]);
}
