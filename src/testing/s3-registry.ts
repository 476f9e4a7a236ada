// `berth registry serve` on an S3 bucket of a test's Ceph RGW: the config file written, the CLI
// started as a child (with AWS_CA_BUNDLE set unless told otherwise, as this machine sets it), its
// address read from its first line, and stopped with SIGTERM.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { CephRgw } from './ceph-rgw.js';
import { serveBerthRegistry } from './berth-registry.js';

/** Makes a bucket on the RGW (with its owner's keys). */
export async function createBucket(rgw: CephRgw, bucket: string): Promise<void> {
  const s3 = new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

/** `[storage.s3]` for the RGW as TOML lines, with `extra` lines (ca, redirect...) after. */
export function s3ConfigToml(rgw: CephRgw, bucket: string, prefix: string, extra: string[] = [], endpoint = rgw.endpoint): string {
  return [
    '[storage.s3]',
    `endpoint = "${endpoint}"`,
    `region = "${rgw.region}"`,
    `bucket = "${bucket}"`,
    `prefix = "${prefix}"`,
    'path_style = true',
    `access_key = "${rgw.accessKey}"`,
    `secret_key = "${rgw.secretKey}"`,
    ...extra,
    '',
  ].join('\n');
}

export interface ServedRegistry {
  url: string;
  config: string;
  stop(): Promise<number | null>;
}

/**
 * Starts `berth registry serve --config` with `toml` (written to dir/registry.toml) on a free port; `env`
 * is added to the process environment. Rejects with the server's stderr if it exits before listening.
 */
export async function serveWithConfig(dir: string, toml: string, env: Record<string, string> = {}): Promise<ServedRegistry> {
  const config = join(dir, 'registry.toml');
  await writeFile(config, `[http]\naddr = "127.0.0.1:0"\n${toml}`);
  const served = await serveBerthRegistry(join(dir, 'store'), ['--config', config], { env });
  return {
    url: served.url,
    config,
    async stop() {
      served.child.kill('SIGTERM');
      return served.exited;
    },
  };
}
