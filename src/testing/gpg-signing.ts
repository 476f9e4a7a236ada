import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { berth, busyboxRootfs, type RunResult, run } from './cli.js';
import { exportGpgKey, makeGpgKey } from './gpg-keys.js';
import { type Registry, startRegistry } from './registry.js';

/**
 * What the GPG signing e2e tests share (signing, verifying, carrying signatures and the trust policy,
 * against skopeo): under the test's temp directory, a private GnuPG home, a registries.d the test
 * fills, the CNCF distribution registry on 127.0.0.1, keys made and exported there, and skopeo run
 * with both. `start()` in `before`, `stop()` in `after` (the test removes its directory itself).
 */
export interface GpgSigning {
  /** The environment of every command that signs or verifies: the private keyring. */
  readonly env: { GNUPGHOME: string };
  /** The registries.d directory, empty until the test writes it. */
  readonly regD: string;
  /** Makes the GnuPG home and registries.d, starts the registry; its HOST:PORT. */
  start(): Promise<string>;
  /** A key for `name` in the keyring, its public key exported to `<dir>/<name>.gpg`. */
  key(name: string, opts?: { passphraseFile?: string }): Promise<GpgKey>;
  /** Imports the busybox image into `store` as `bb` (CMD /bin/sh). */
  importBusybox(store: string): Promise<void>;
  /** skopeo with the test's registries.d and keyring. */
  skopeo(args: string[]): Promise<RunResult>;
  /** skopeo copies docker://HOST/<ref> out to a directory under `<dir>/out`, judged by `policy` (`flags` such as --all before the names); its result. */
  skopeoPull(policy: string, ref: string, flags?: string[]): Promise<RunResult>;
  /** Writes `<dir>/<name>`, a policy that rejects by default and has these transports; its path. */
  policyFile(name: string, transports: Record<string, unknown>): string;
  /**
   * Pushes `image` of `store` to HOST/<ref> and has skopeo sign it there with `fpr`, into the
   * lookaside registries.d names for it; the manifest's digest.
   */
  pushSignedBySkopeo(store: string, image: string, ref: string, fpr: string): Promise<string>;
  /** Stops the registry and the keyring's gpg-agent. */
  stop(): Promise<void>;
}

export interface GpgKey {
  fpr: string;
  /** The exported public key (binary, as `gpg --export` writes it). */
  pubKey: string;
}

/** containers/image's lookaside layout: the folder of `repo`'s signatures of `digest` under `base`. */
export function lookasideFolder(base: string, repo: string, digest: string): string {
  return join(base, `${repo}@${digest.replace(':', '=')}`);
}

export function gpgSigning(dir: string): GpgSigning {
  const gnupg = join(dir, 'gnupg');
  const env = { GNUPGHOME: gnupg };
  const regD = join(dir, 'registries.d');
  let registry: Registry | undefined;
  let host = '';
  const skopeo = (args: string[]) => run('skopeo', ['--registries.d', regD, ...args], { env });
  return {
    env,
    regD,
    async start() {
      mkdirSync(gnupg, { mode: 0o700 });
      mkdirSync(regD);
      mkdirSync(join(dir, 'out'));
      registry = await startRegistry(join(dir, 'registry'));
      host = registry.host;
      return host;
    },
    async key(name, opts = {}) {
      const fpr = await makeGpgKey(gnupg, name, opts);
      const pubKey = join(dir, `${name}.gpg`);
      await exportGpgKey(gnupg, fpr, pubKey);
      return { fpr, pubKey };
    },
    async importBusybox(store) {
      const rootfs = join(dir, 'busybox.tar');
      await busyboxRootfs(rootfs);
      assert.equal((await berth(store, ['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb'])).code, 0);
    },
    skopeo,
    skopeoPull: (policy, ref, flags = []) =>
      skopeo(['--policy', policy, 'copy', ...flags, '--src-tls-verify=false', `docker://${host}/${ref}`, `dir:${join(dir, 'out', ref.replace(/[:/]/g, '_'))}`]),
    policyFile(name, transports) {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify({ default: [{ type: 'reject' }], transports }));
      return p;
    },
    async pushSignedBySkopeo(store, image, ref, fpr) {
      const digestFile = join(dir, `${ref.replace(/[:/]/g, '_')}.digest`);
      const pushed = await berth(store, ['push', '-q', '--tls-verify=false', '--digestfile', digestFile, image, `${host}/${ref}`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const accept = join(dir, 'accept.json');
      writeFileSync(accept, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
      const tls = ['--src-tls-verify=false', '--dest-tls-verify=false'];
      const signed = await skopeo(['--policy', accept, 'copy', ...tls, '--sign-by', fpr, `docker://${host}/${ref}`, `docker://${host}/${ref}`]);
      assert.equal(signed.code, 0, signed.stderr);
      return readFileSync(digestFile, 'utf8').trim();
    },
    async stop() {
      await registry?.stop();
      await run('gpgconf', ['--kill', 'all'], { env });
    },
  };
}
