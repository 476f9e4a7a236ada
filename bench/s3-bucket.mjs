// Makes an S3 bucket for a benchmark's server (idempotent): node bench/s3-bucket.mjs BUCKET, with
// S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY set (bench/registry-s3.sh sets them).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const bucket = process.argv[2];
const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = process.env;
if (!bucket || !S3_ENDPOINT || !S3_ACCESS_KEY || !S3_SECRET_KEY) {
  console.error('usage: S3_ENDPOINT=… S3_ACCESS_KEY=… S3_SECRET_KEY=… node bench/s3-bucket.mjs BUCKET');
  process.exit(2);
}
const s3 = new S3Client({
  endpoint: S3_ENDPOINT,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
});
try {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
} catch (e) {
  if (e.name !== 'BucketAlreadyOwnedByYou') throw e;
}
s3.destroy();
