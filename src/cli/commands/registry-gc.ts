import { join } from 'node:path';
import { resolveStorePaths } from '../../engine/index.js';
import { collectGarbage, formatGcReport, loadRegistryConfig, openStorage, parseDuration } from '../../registry/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface GcCommandOptions {
  config?: string;
  storage?: string;
  deleteUntagged?: boolean;
  dryRun?: boolean;
  grace?: string;
  uploadMaxAge?: string;
  format?: string;
}

function duration(text: string, flag: string): number {
  try {
    return parseDuration(/^\d+$/.test(text) ? Number(text) : text, flag);
  } catch (e) {
    throw new BerthError('USAGE', (e as Error).message);
  }
}

/** `berth registry gc`: collects a registry's garbage offline (or alongside a server, within the grace period's safety). */
export async function run(g: GlobalOptions, opts: GcCommandOptions): Promise<void> {
  const cfg = opts.config ? await loadRegistryConfig(opts.config) : {};
  // The config's [storage.s3] bucket unless --storage names a directory.
  const storage = await openStorage(
    cfg.s3 && opts.storage === undefined ? { s3: cfg.s3 } : (opts.storage ?? cfg.storage ?? join((await resolveStorePaths(engineOptions(g))).root, 'registry')),
  );
  try {
    const report = await collectGarbage(storage, {
      deleteUntagged: opts.deleteUntagged ?? cfg.gc?.deleteUntagged ?? false,
      dryRun: opts.dryRun ?? false,
      ...(opts.grace !== undefined ? { graceMs: duration(opts.grace, '--grace') } : cfg.gc?.graceMs !== undefined ? { graceMs: cfg.gc.graceMs } : {}),
      ...(opts.uploadMaxAge !== undefined
        ? { uploadMaxAgeMs: duration(opts.uploadMaxAge, '--upload-max-age') }
        : cfg.gc?.uploadMaxAgeMs !== undefined
          ? { uploadMaxAgeMs: cfg.gc.uploadMaxAgeMs }
          : {}),
    });
    process.stdout.write(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatGcReport(report));
  } finally {
    await storage.close();
  }
}
