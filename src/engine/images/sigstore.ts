/**
 * Sigstore signing with a key for callers (issue 17): skopeo's `generate-sigstore-key`, the private key
 * a push signs with, and the signatures a registry holds for an image.
 */
import type { KeyObject } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { loadRegistriesD, registriesDirPath, useSigstoreAttachments } from '../../signature/registries-d.js';
import { createSigstoreSignature, type SigstoreSignature } from '../../signature/sigstore.js';
import { decryptSigstorePrivateKey, generateSigstoreKeyPair } from '../../signature/sigstore-keys.js';
import type { SignedClaim, UnverifiedSignature } from '../../signature/types.js';
import { formatReference, parseNormalizedNamed, type ImageReference } from '../../oci/reference.js';
import { readSigstoreSignatures, RegistryClient, writeSigstoreSignature, type RegistryOptions } from '../../transports/docker/index.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { VERSION } from '../../util/version.js';
import { registriesConf } from './pull.js';

/**
 * Writes `prefix.private` (mode 0600) and `prefix.pub` (0644), refusing to overwrite either, as skopeo.
 * Returns their paths.
 */
export async function generateSigstoreKey(prefix: string, passphrase: Uint8Array): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
  const privateKeyPath = `${prefix}.private`;
  const publicKeyPath = `${prefix}.pub`;
  const keys = await generateSigstoreKeyPair(passphrase);
  const written: string[] = [];
  try {
    for (const [path, text, mode] of [
      [privateKeyPath, keys.privateKeyPem, 0o600],
      [publicKeyPath, keys.publicKeyPem, 0o644],
    ] as const) {
      let fh;
      try {
        fh = await open(path, 'wx', mode); // O_EXCL: never replace a key
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') throw new BerthError('USAGE', `Refusing to overwrite existing ${JSON.stringify(path)}`);
        throw new BerthError('IO', `writing ${path}: ${(e as Error).message}`, { cause: e });
      }
      written.push(path);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    // A pair is written whole or not at all: a lone private key with no public half helps nobody.
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw e;
  }
  return { privateKeyPath, publicKeyPath };
}

/** The private key of `--sign-by-sigstore-private-key`, decrypted (before a push starts, so a wrong passphrase costs nothing). */
export async function loadSigstorePrivateKey(path: string, passphrase: Uint8Array): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (e) {
    throw new BerthError('USAGE', `reading sigstore private key ${path}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
  }
  return decryptSigstorePrivateKey(pem, passphrase, `sigstore private key ${path}`);
}

/**
 * Signs `claim` (the manifest digest a push ended with, under the name it was pushed as) and attaches
 * the signature in the repository the client writes to.
 */
export async function attachSigstoreSignature(client: RegistryClient, repository: string, privateKey: KeyObject, claim: SignedClaim): Promise<void> {
  const signature = createSigstoreSignature(privateKey, claim, { creator: `berth ${VERSION}`, timestamp: Math.floor(Date.now() / 1000) });
  await writeSigstoreSignature(client, repository, claim.manifestDigest, signature);
}

/** The sigstore signatures a registry holds for `manifestDigest` of the repository `name` names (none when there are none). */
export async function registrySigstoreSignatures(name: string, manifestDigest: string, opts: RegistryOptions = {}): Promise<UnverifiedSignature[]> {
  const ref = parseNormalizedNamed(name);
  const client = await RegistryClient.open(
    ref.domain,
    { ...opts, registriesConf: opts.registriesConf ?? (await registriesConf(opts.env)) },
    `${ref.domain}/${ref.path}`,
  );
  try {
    return await readSigstoreSignatures(client, ref.path, manifestDigest);
  } finally {
    client.close();
  }
}

/**
 * Refuses, before anything is pushed or copied, a sigstore signature for `ref` where registries.d does
 * not say to use attachments for it: containers/image then refuses to write one ("writing sigstore
 * attachments is disabled by configuration"), and writes no sigstore signature to a lookaside either.
 */
export async function requireSigstoreAttachments(ref: ImageReference, registriesDir: string | undefined): Promise<void> {
  const dir = await registriesDirPath(registriesDir);
  if (useSigstoreAttachments(await loadRegistriesD(dir), ref)) return;
  throw new BerthError(
    'USAGE',
    `writing signatures: writing sigstore attachments is disabled by configuration: set use-sigstore-attachments: true for ${formatReference(ref)} (or a scope above it) in ${dir}`,
  );
}

/** Attaches `signatures` to `manifestDigest` in `ref`'s repository (those already attached kept, none twice). */
export async function attachSigstoreSignatures(
  ref: ImageReference,
  manifestDigest: string,
  signatures: readonly SigstoreSignature[],
  opts: RegistryOptions = {},
): Promise<void> {
  if (signatures.length === 0) return;
  const client = await RegistryClient.open(
    ref.domain,
    { ...opts, push: true, registriesConf: opts.registriesConf ?? (await registriesConf(opts.env)) },
    `${ref.domain}/${ref.path}`,
  );
  try {
    for (const signature of signatures) await writeSigstoreSignature(client, ref.path, manifestDigest, signature);
  } finally {
    client.close();
  }
}
