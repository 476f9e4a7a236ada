// Opening the configured storage: a directory, or an S3 bucket. The S3 backend (and the AWS SDK under
// it) is loaded only when one is configured, so a registry on a directory never loads it.
import { openFsStorage } from './fs.js';
import type { S3StorageConfig } from './s3.js';
import type { RegistryStorage } from './types.js';

export type StorageLocation = string | { s3: S3StorageConfig };

export async function openStorage(where: StorageLocation): Promise<RegistryStorage> {
  if (typeof where === 'string') return openFsStorage(where);
  const { openS3Storage } = await import('./s3.js');
  return openS3Storage(where.s3);
}
