// The S3 storage backend: a whole registry in one bucket (under a key prefix), layout in _s3-layout.ts.
// Nothing lives in the process but accelerators (a running hash, the repositories whose catalog entry
// exists), so any number of registry processes serve one bucket, and S3's (and RGW's) strong
// read-after-write consistency makes a PUT that returned visible to all of them.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { BerthError } from '../../util/errors.js';
import { S3Bucket } from './_s3-bucket.js';
import { LeanS3 } from './_s3-lean.js';
import { S3Blobs, S3Links, type CachedBytes } from './_s3-blobs.js';
import { ByteCache, DEFAULT_CACHE_BYTES } from './_s3-cache.js';
import { pageOfNames, S3Manifests, S3Tags } from './_s3-manifests.js';
import { TagListings } from './_s3-tag-listings.js';
import { S3Uploads } from './_s3-uploads.js';
import { layout } from './_s3-layout.js';
import type { Page, PageRequest, RegistryStorage } from './types.js';

/** `[storage.s3]` of the registry's config. */
export interface S3StorageConfig {
  /** http(s)://host:port of an S3-compatible service; default AWS's for the region. */
  endpoint?: string;
  /** Default us-east-1 (what RGW and most S3-compatible services accept). */
  region?: string;
  bucket: string;
  /** Keys go under this prefix ("" for the bucket's root). */
  prefix?: string;
  /** bucket in the path rather than the host name (what RGW and other self-hosted services want). */
  pathStyle?: boolean;
  /** Both or neither; neither: the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, credential files). */
  accessKey?: string;
  secretKey?: string;
  /** A PEM file of CAs that the endpoint's certificate is checked against, instead of the system's. */
  ca?: string;
  /** Bytes per part of a multipart upload (at least 5 MiB); default 8 MiB. */
  partSize?: number;
  /** Parts of one upload in flight at once; default 4. */
  concurrency?: number;
  /** Answer blob GETs with a 307 to a presigned URL of the object instead of streaming it. */
  redirect?: boolean;
  /** Bytes of small blobs and manifests kept in memory (_s3-cache.ts); default 64 MiB, 0 keeps none. */
  cacheBytes?: number;
}

export const DEFAULT_PART_SIZE = 8 << 20;
export const DEFAULT_CONCURRENCY = 4;

/** An S3 client for the config: our CA (if any) on the HTTPS agent, keep-alive, no flexible checksums. */
export function s3Client(config: S3StorageConfig): { client: S3Client; destroy: () => void; agent: HttpAgent | HttpsAgent } {
  const ca = config.ca === undefined ? undefined : readFileSync(config.ca);
  // Sockets kept for the next request: a registry makes a few small requests for each of its own.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256, ...(ca ? { ca } : {}) });
  const options: S3ClientConfig = {
    region: config.region ?? 'us-east-1',
    forcePathStyle: config.pathStyle ?? false,
    requestHandler: { httpAgent, httpsAgent },
    // The newer SDK's default CRC32 on every upload (aws-chunked with a trailer for streams) is not
    // understood by RGW 16 and others; S3 checks Content-MD5/SigV4 where it must.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (config.endpoint !== undefined) options.endpoint = config.endpoint;
  if (config.accessKey !== undefined && config.secretKey !== undefined) {
    options.credentials = { accessKeyId: config.accessKey, secretAccessKey: config.secretKey };
  }
  const client = new S3Client(options);
  return {
    client,
    agent: config.endpoint?.startsWith('https:') ? httpsAgent : httpAgent,
    destroy: () => {
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** A registry stored in an S3 bucket. */
export class S3Storage implements RegistryStorage {
  readonly blobs: S3Blobs;
  readonly links: S3Links;
  readonly uploads: S3Uploads;
  readonly manifests: S3Manifests;
  readonly tags: S3Tags;

  constructor(
    private readonly bucket: S3Bucket,
    config: S3StorageConfig,
    private readonly onClose: () => void = () => {},
    /** The clock existence windows are measured with (tests move it). */
    now: () => number = Date.now,
  ) {
    const cache = new ByteCache<CachedBytes>(config.cacheBytes ?? DEFAULT_CACHE_BYTES, now);
    this.blobs = new S3Blobs(bucket, config.redirect ?? false, cache);
    this.links = new S3Links(bucket, this.blobs);
    this.uploads = new S3Uploads(bucket, this.blobs, this.links, {
      partBytes: Math.max(config.partSize ?? DEFAULT_PART_SIZE, 5 << 20),
      concurrency: Math.max(config.concurrency ?? DEFAULT_CONCURRENCY, 1),
    });
    const listings = new TagListings(bucket, now);
    this.manifests = new S3Manifests(bucket, this.blobs, this.links, listings);
    this.tags = new S3Tags(bucket, this.manifests, listings, (name) => this.hasRepository(name));
  }

  async hasRepository(repository: string): Promise<boolean> {
    // Catalog entries are never removed: one seen stays true.
    if (this.links.isKnown(repository)) return true;
    const found = (await this.bucket.head(layout.catalogEntry(repository))) !== undefined;
    if (found) this.links.remember(repository);
    return found;
  }

  repositories(page?: PageRequest): Promise<Page<string>> {
    return pageOfNames(this.bucket, layout.catalog, page);
  }

  /** The bucket takes a write and a delete under the prefix (for /readyz). */
  async check(): Promise<void> {
    const probe = `_ready/${randomUUID()}`;
    await this.bucket.put(probe, '');
    await this.bucket.delete(probe);
  }

  async close(): Promise<void> {
    this.onClose();
  }
}

/** Opens the registry in the configured bucket, which must exist and be reachable with the credentials. */
export async function openS3Storage(config: S3StorageConfig): Promise<S3Storage> {
  const { client, destroy, agent } = s3Client(config);
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch (e) {
    destroy();
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const why = status === 404 ? 'no such bucket' : status === 403 ? 'access denied' : (e as Error).message || (e as Error).name;
    throw new BerthError('IO', `S3 storage: bucket ${config.bucket}${config.endpoint ? ` at ${config.endpoint}` : ''}: ${why}`, { cause: e });
  }
  // The SDK's own endpoint resolution and credential chain are kept for any other case.
  const lean =
    config.endpoint !== undefined && config.pathStyle && config.accessKey !== undefined && config.secretKey !== undefined
      ? new LeanS3(config.endpoint, config.bucket, config.region ?? 'us-east-1', config.accessKey, config.secretKey, agent)
      : undefined;
  return new S3Storage(new S3Bucket(client, config.bucket, config.prefix, lean), config, destroy);
}
