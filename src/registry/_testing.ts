// Helpers for the registry's own tests: a server on a free port over a temp directory, and pushes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { startRegistry, type RegistryServerOptions, type RunningRegistry } from './server.js';

export interface TestRegistry extends RunningRegistry {
  dir: string;
}

/** Runs `fn` against a fresh registry on 127.0.0.1 (a free port); stops it and removes its storage after. */
export async function withRegistry(fn: (r: TestRegistry) => Promise<void>, opts: Partial<RegistryServerOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-'));
  const r = await startRegistry({ addr: '127.0.0.1:0', ...opts, storage: join(dir, 'storage') });
  try {
    await fn({ ...r, dir });
  } finally {
    await r.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Monolithic upload; the blob's digest. */
export async function uploadBlob(url: string, repo: string, data: string | Uint8Array): Promise<string> {
  const digest = digestOf(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data as BodyInit });
  if (res.status !== 201) throw new Error(`upload to ${repo}: ${res.status} ${await res.text()}`);
  return digest;
}

export async function putManifest(
  url: string,
  repo: string,
  ref: string,
  body: string | Uint8Array,
  mediaType: string = MediaType.OciManifest,
): Promise<Response> {
  return fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: body as BodyInit, headers: { 'Content-Type': mediaType } });
}

/** Pushes a config and one layer and an OCI manifest naming them (with extra fields merged in); its bytes and digest. */
export async function pushImage(url: string, repo: string, tag: string, extra: Record<string, unknown> = {}): Promise<{ bytes: string; digest: string }> {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const layer = `layer of ${repo}:${tag}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: await uploadBlob(url, repo, config), size: config.length },
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: await uploadBlob(url, repo, layer), size: layer.length }],
    ...extra,
  };
  const bytes = JSON.stringify(manifest);
  const res = await putManifest(url, repo, tag, bytes);
  if (res.status !== 201) throw new Error(`manifest push to ${repo}:${tag}: ${res.status} ${await res.text()}`);
  return { bytes, digest: digestOf(bytes) };
}

/** The first error code of a spec error body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}
