import { readFile } from 'node:fs/promises';
import { BerthError, errnoCode } from '../../util/errors.js';
import { askOnTerminal } from './_terminal-prompt.js';

/** A passphrase file's first line, as gpg and containers/image read it (an empty file is the empty passphrase). */
export async function readPassphraseFile(path: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    throw new BerthError('USAGE', `reading passphrase file ${path}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
  }
  const nl = data.indexOf(0x0a);
  return nl < 0 ? data : data.subarray(0, nl);
}

/** Asks for the passphrase of `keyFile` on the terminal, unechoed, as skopeo; refuses without one. */
export async function promptPassphrase(keyFile: string): Promise<Uint8Array> {
  if (!process.stdin.isTTY) throw new BerthError('USAGE', `Cannot prompt for a passphrase for key ${keyFile}, standard input is not a TTY`);
  return Buffer.from(await askOnTerminal(`Passphrase for key ${keyFile}: `, true));
}
