/**
 * GPG simple signing through the user's `gpg` (Debian's gnupg, as skopeo and podman use it):
 * signing with a key of the user's keyring, and verifying against exactly the keys a policy
 * requirement names. gpg always runs from an argv (no shell); its verdict is read from --status-fd,
 * never from its human messages, which change with the locale and the version.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';
import { parsePayload, type ParsedPayload } from './simple-signing.js';
import type { GpgKeys, SignedClaim } from './types.js';

/** The gpg binary: BERTH_GPG for tests and odd installs, else `gpg` from PATH. */
const gpgBinary = (): string => process.env.BERTH_GPG ?? 'gpg';

interface GpgRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs gpg with `args`, feeding `input` on stdin. Never throws for gpg's own failures: callers read the code and status. */
function runGpg(args: readonly string[], input: Uint8Array, env: NodeJS.ProcessEnv = process.env): Promise<GpgRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(gpgBinary(), ['--batch', '--no-tty', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) =>
      reject(
        errnoCode(e) === 'ENOENT'
          ? new BerthError('SIGNATURE_INVALID', 'gpg is not installed (install gnupg to sign or verify GPG signatures)', { cause: e })
          : e,
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    // gpg may exit before reading all of stdin (a bad packet); that EPIPE is not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** gpg's last meaningful stderr line, for an error message. */
function gpgSays(run: GpgRun): string {
  const lines = run.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? `gpg exited with ${run.code}`;
}

export interface SignOptions {
  /** A key fingerprint (or anything gpg's --local-user takes) in the user's keyring. */
  signBy: string;
  /** A file whose first line is the key's passphrase (given to gpg in loopback pinentry mode). */
  passphraseFile?: string;
}

/**
 * Signs `payload` as an attached, binary OpenPGP signed message, as containers/image does
 * (`gpg --sign`, not a detached or clear signature). GNUPGHOME is honoured as gpg itself honours it.
 */
export async function gpgSign(payload: Uint8Array, opts: SignOptions): Promise<Uint8Array> {
  const args = ['--local-user', opts.signBy];
  if (opts.passphraseFile !== undefined) args.push('--pinentry-mode', 'loopback', '--passphrase-file', opts.passphraseFile);
  args.push('--sign', '--output', '-');
  const run = await runGpg(args, payload);
  if (run.code !== 0 || run.stdout.length === 0) {
    throw new BerthError('SIGNATURE_INVALID', `signing with key ${opts.signBy}: ${gpgSays(run)}`);
  }
  return new Uint8Array(run.stdout);
}

/** A verified signature: the key that made it and the payload it signs. */
export interface VerifiedSimpleSignature {
  /** The fingerprint of the primary key whose (sub)key made the signature. */
  keyFingerprint: string;
  payload: ParsedPayload;
}

/** Makes a private GNUPGHOME (0700), gives it to `use`, and removes it (and any agent gpg started in it) after. */
async function withTempGnupgHome<T>(use: (home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'berth-gpg-'));
  try {
    return await use(home);
  } finally {
    // gpg starts an agent on some inputs (an encrypted message); it would outlive the folder.
    if (
      await stat(join(home, 'S.gpg-agent')).then(
        () => true,
        () => false,
      )
    ) {
      await new Promise<void>((resolve) => {
        const k = spawn('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
        k.on('error', () => resolve());
        k.on('close', () => resolve());
      });
    }
    await rm(home, { recursive: true, force: true });
  }
}

async function importKeys(home: string, keys: GpgKeys): Promise<void> {
  const blobs: { what: string; bytes: Uint8Array }[] = [];
  for (const p of keys.keyPaths ?? []) {
    try {
      blobs.push({ what: p, bytes: await readFile(p) });
    } catch (e) {
      throw new BerthError('SIGNATURE_INVALID', `reading the keys in ${p}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (keys.keyData !== undefined) blobs.push({ what: 'keyData', bytes: keys.keyData });
  if (blobs.length === 0) throw new BerthError('SIGNATURE_INVALID', 'no GPG keys to verify the signature with');
  for (const b of blobs) {
    const run = await runGpg(['--homedir', home, '--status-fd', '1', '--import'], b.bytes);
    // IMPORT_OK for each key taken; a file with no key at all is a policy mistake worth saying so.
    if (!/^\[GNUPG:\] IMPORT_OK /m.test(run.stdout.toString('utf8'))) {
      throw new BerthError('SIGNATURE_INVALID', `no GPG key could be read from ${b.what}: ${gpgSays(run)}`);
    }
  }
}

/** The status lines gpg wrote, each as its keyword and arguments. */
function statusLines(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('[GNUPG:] '))
    .map((l) => l.slice('[GNUPG:] '.length).trim().split(' '));
}

/**
 * Verifies one simple-signing signature against exactly `keys` (a temporary keyring holding only
 * them, as containers/image does), and returns the signing key and the parsed payload. Throws a
 * BerthError whose message says why not: "signed by an unknown key", "invalid signature", expiry,
 * "not signed", or what is wrong with the payload.
 */
export async function verifySimpleSigning(signature: Uint8Array, keys: GpgKeys): Promise<VerifiedSimpleSignature> {
  return withTempGnupgHome(async (home) => {
    await importKeys(home, keys);
    const payloadPath = join(home, 'payload');
    const run = await runGpg(
      ['--homedir', home, '--no-auto-key-retrieve', '--status-fd', '1', '--logger-fd', '2', '--output', payloadPath, '--decrypt'],
      signature,
    );
    const status = statusLines(run.stdout.toString('utf8'));
    const has = (kw: string) => status.find((s) => s[0] === kw);
    const fail = (why: string) => new BerthError('SIGNATURE_INVALID', why);
    const signatures = status.filter((s) => s[0] === 'NEWSIG').length;
    if (has('NO_PUBKEY')) throw fail(`signed by an unknown key (key ID ${has('NO_PUBKEY')![1] ?? '?'})`);
    if (has('BADSIG')) throw fail('invalid signature: the signed data does not match it');
    if (has('EXPKEYSIG')) throw fail(`signed by an expired key (key ID ${has('EXPKEYSIG')![1] ?? '?'})`);
    if (has('REVKEYSIG')) throw fail(`signed by a revoked key (key ID ${has('REVKEYSIG')![1] ?? '?'})`);
    if (has('EXPSIG')) throw fail('the signature has expired');
    if (has('ERRSIG')) throw fail(`invalid signature: gpg could not check it (${gpgSays(run)})`);
    if (has('DECRYPTION_FAILED') || has('ENC_TO')) throw fail('not a signature: an encrypted message');
    if (signatures === 0) throw fail('not signed: no signature in the message');
    if (signatures !== 1) throw fail(`invalid signature: ${signatures} signatures in one message, expected 1`);
    const good = has('GOODSIG');
    const valid = has('VALIDSIG');
    if (!good || !valid || run.code !== 0) throw fail(`invalid signature: ${gpgSays(run)}`);
    // VALIDSIG's last field is the primary key's fingerprint (the signing key may be a subkey).
    const keyFingerprint = valid.at(-1) ?? valid[1] ?? '';
    const payload = parsePayload(await readFile(payloadPath));
    return { keyFingerprint, payload };
  });
}

/** Verifiers.simpleSigning: the claim of a signature made by one of `keys`. */
export async function simpleSigningVerifier(signature: Uint8Array, keys: GpgKeys): Promise<SignedClaim> {
  const { payload } = await verifySimpleSigning(signature, keys);
  return { dockerReference: payload.dockerReference, manifestDigest: payload.manifestDigest };
}
