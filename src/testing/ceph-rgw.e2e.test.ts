import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCephRgw } from './ceph-rgw.js';
import { processesMentioning } from './host-leftovers.js';

describe('the Ceph RGW the S3 tests run against', { timeout: 120_000 }, () => {
  test('serves S3 with the keys it made, and stop() leaves no process, directory or route', async () => {
    const rgw = await startCephRgw();
    const dir = rgw.conf.replace(/\/ceph\.conf$/, '');
    const host = new URL(rgw.endpoint).hostname;
    const quickAckRoutes = () => execFileSync('ip', ['route', 'show', 'table', 'local', `${host}/32`], { encoding: 'utf8' });
    try {
      // Its own loopback address, acknowledged at once (quickack-loopback.ts), where root may add routes.
      if (host !== '127.0.0.1') assert.match(quickAckRoutes(), /quickack 1/);
      const s3 = new S3Client({
        endpoint: rgw.endpoint,
        region: rgw.region,
        forcePathStyle: true,
        credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'harness-check' }));
      await s3.send(new PutObjectCommand({ Bucket: 'harness-check', Key: 'a/b', Body: 'hello' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'harness-check', Key: 'a/b' }));
      assert.equal(await got.Body?.transformToString(), 'hello');
      // A conditional create, which the registry's metadata relies on, is honoured.
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: 'harness-check', Key: 'a/b', Body: 'x', IfNoneMatch: '*' })),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 412,
      );
      const wrong = new S3Client({
        endpoint: rgw.endpoint,
        region: rgw.region,
        forcePathStyle: true,
        credentials: { accessKeyId: rgw.accessKey, secretAccessKey: 'wrong' },
      });
      await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'harness-check', Key: 'a/b' })), /SignatureDoesNotMatch|AccessDenied/);
      s3.destroy();
      wrong.destroy();
    } finally {
      await rgw.stop();
    }
    assert.deepEqual(processesMentioning(dir), []);
    assert.equal(existsSync(dir), false);
    if (host !== '127.0.0.1') assert.equal(quickAckRoutes(), '');
  });
});
