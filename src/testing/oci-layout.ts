import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';

/** A one-file layer tar, made with tar-stream. */
export async function oneFileLayer(text: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Writes a tiny OCI layout into `dir`: one image (a gzip layer holding hello.txt with `text`)
 * tagged `tag`, made without berth so that peers' reading of it proves nothing about berth's writer.
 * Returns the manifest's digest.
 */
export async function writeTestLayout(
  dir: string,
  tag: string,
  opts: { text: string; config?: object; annotations?: Record<string, string> },
): Promise<string> {
  const raw = await oneFileLayer(opts.text);
  const layer = gzipSync(raw);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      ...(opts.config ? { config: opts.config } : {}),
      rootfs: { type: 'layers', diff_ids: [digestOf(raw)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [layer, config, manifest]) await writeFile(join(dir, 'blobs', 'sha256', digestOf(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = {
    mediaType: MediaType.OciManifest,
    digest: digestOf(manifest),
    size: manifest.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] }));
  return digestOf(manifest);
}
