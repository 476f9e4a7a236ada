// Helpers for the access-control tests: a config directory with users, keys and a registry TOML.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { loadRegistryConfig } from '../config.js';
import { startRegistry, type RunningRegistry } from '../server.js';

export const USERS = { alice: 'alice-secret', bob: 'bob-secret' } as const;

export interface AuthFixture {
  dir: string;
  registry: RunningRegistry;
  /** The private key PEM of an external token issuer the registry trusts. */
  externalKey: string;
  /** With `tls`: a directory holding the server's self-signed certificate as ca.crt, as clients' --cert-dir expects. */
  certDir: string;
}

export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Rules used by the tests: public/* pulls for everyone, private/* only alice; alice pushes everywhere, bob only to bob/*. */
export const RULES = `
[[access]]
repository = "public/**"
pull = ["anonymous"]
push = ["alice"]
delete = ["alice"]
[[access]]
repository = "bob/*"
pull = ["*"]
push = ["bob", "alice"]
[[access]]
repository = "private/**"
pull = ["alice"]
push = ["alice"]
delete = ["alice"]
`;

/**
 * Starts a registry on 127.0.0.1 with htpasswd users and RULES; `token` adds the built-in token issuer
 * (and trusts an external one); `tls` serves HTTPS with a new self-signed certificate for 127.0.0.1.
 * Stopped and removed after `fn`.
 */
export async function withAuthRegistry(opts: { token: boolean; tls?: boolean; extra?: string }, fn: (f: AuthFixture) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-auth-'));
  let registry: RunningRegistry | undefined;
  try {
    const lines = Object.entries(USERS).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}`);
    await writeFile(join(dir, 'users.htpasswd'), `${lines.join('\n')}\n`);
    const own = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const external = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'token.key'), own.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'external.pub'), external.publicKey.export({ type: 'spki', format: 'pem' }));
    const token = opts.token
      ? '[auth.token]\nservice = "berth-test"\nissuer = "berth-test-issuer"\nkey = "token.key"\npublic_key = "external.pub"\nexpiry = "2m"\n'
      : '';
    const toml = `[storage]\npath = "storage"\n[auth]\nhtpasswd = "users.htpasswd"\ncatalog = ["alice"]\n${token}${RULES}${opts.extra ?? ''}`;
    await writeFile(join(dir, 'registry.toml'), toml);
    const config = await loadRegistryConfig(join(dir, 'registry.toml'));
    const certDir = join(dir, 'certs');
    const tls = opts.tls ? { tlsCert: join(certDir, 'ca.crt'), tlsKey: join(dir, 'server.key') } : {};
    if (opts.tls) {
      await mkdir(certDir);
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        tls.tlsKey!,
        '-out',
        tls.tlsCert!,
      ]);
    }
    registry = await startRegistry({ addr: '127.0.0.1:0', storage: config.storage!, ...tls, ...(config.auth ? { auth: config.auth } : {}) });
    await fn({ dir, registry, externalKey: external.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certDir });
  } finally {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pushes a config, a layer and a manifest with the given auth headers; throws "<status> ..." on any refusal. */
export async function pushImageAs(url: string, repo: string, tag: string, headers: Record<string, string>): Promise<string> {
  const blob = async (data: string) => {
    const digest = digestOf(data);
    const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers });
    if (res.status !== 201) throw new Error(`${res.status} uploading to ${repo}: ${await res.text()}`);
    return { digest, size: Buffer.byteLength(data) };
  };
  const config = await blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = await blob(`layer of ${repo}:${tag}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, ...config },
    layers: [{ mediaType: MediaType.OciLayerGzip, ...layer }],
  });
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { ...headers, 'Content-Type': MediaType.OciManifest },
  });
  if (res.status !== 201) throw new Error(`${res.status} pushing ${repo}:${tag}: ${await res.text()}`);
  return digestOf(manifest);
}
