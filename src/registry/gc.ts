// Garbage collection of a registry's storage, offline (`berth registry gc`) or inside a running server.
// Mark: every repository's tags, manifests (and index children), configs, layers and referrers.
// Sweep: blobs no live manifest holds, only once unused for the grace period, and atomically against a
// push that links or checks them meanwhile (BlobStore.delete with unusedSince); then the repository links
// to what went, and upload sessions idle past their limit. In-progress uploads are never read or robbed:
// their bytes live in the session until it finishes, and a finished blob is fresh.
import { markRepository } from './_gc-mark.js';
import type { RegistryStorage } from './storage/types.js';

export interface GcOptions {
  /** Also remove manifests no tag, index or live subject holds. */
  deleteUntagged?: boolean;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /** Blobs and manifests used within this long stay whatever holds them (default 1 hour). */
  graceMs?: number;
  /** Upload sessions that received nothing for this long are removed (default 24 hours). */
  uploadMaxAgeMs?: number;
  /**
   * Remove repository links to the blobs swept (default true). A server collecting online leaves them: a
   * dangling link is harmless, and removing one could race a re-upload that links the blob again.
   */
  pruneLinks?: boolean;
  /** The clock (tests). */
  now?: number;
}

export interface GcReport {
  dryRun: boolean;
  repositories: number;
  manifestsRemoved: { repository: string; digest: string }[];
  blobsRemoved: { digest: string; size: number }[];
  blobsKept: number;
  linksRemoved: number;
  uploadsRemoved: { id: string; repository: string; size: number }[];
  /** Partial uploads of the backend itself (S3 multipart uploads) that no session held, aborted. */
  partialUploadsAborted?: string[];
  /** Marks the backend keeps beside blobs (S3's `_used`) whose blob was gone, removed. */
  marksRemoved?: number;
  /** Bytes of the blobs and upload sessions actually removed (or that would be, in a dry run). */
  bytesFreed: number;
}

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;

async function allRepositories(storage: RegistryStorage): Promise<string[]> {
  const out: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await storage.repositories(last === undefined ? { n: 1000 } : { n: 1000, last });
    out.push(...page.items);
    if (page.next === undefined) return out;
    last = page.next;
  }
}

export async function collectGarbage(storage: RegistryStorage, opts: GcOptions = {}): Promise<GcReport> {
  const now = opts.now ?? Date.now();
  const cutoff = now - (opts.graceMs ?? DEFAULT_GC_GRACE_MS);
  const dryRun = opts.dryRun ?? false;
  const report: GcReport = {
    dryRun,
    repositories: 0,
    manifestsRemoved: [],
    blobsRemoved: [],
    blobsKept: 0,
    linksRemoved: 0,
    uploadsRemoved: [],
    bytesFreed: 0,
  };

  const repositories = await allRepositories(storage);
  report.repositories = repositories.length;
  const marked = new Set<string>();
  for (const repository of repositories) {
    const marks = await markRepository(storage, repository, { deleteUntagged: opts.deleteUntagged ?? false, cutoff });
    for (const b of marks.blobs) marked.add(b);
    for (const m of marks.dead) {
      if (!dryRun) {
        // Put again or tagged since the mark: it lives after all.
        const now = (await storage.manifests.list(repository)).find((e) => e.digest === m.digest);
        if (!now || now.modified !== m.modified || (await isTagged(storage, repository, m.digest))) continue;
        if (!(await storage.manifests.delete(repository, m.digest))) continue;
      }
      report.manifestsRemoved.push({ repository, digest: m.digest });
    }
  }

  const removed = new Set<string>();
  for await (const blob of storage.blobs.list()) {
    if (marked.has(blob.digest) || blob.modified >= cutoff) {
      report.blobsKept++;
      continue;
    }
    if (!dryRun && !(await storage.blobs.delete(blob.digest, { unusedSince: cutoff }))) {
      report.blobsKept++;
      continue;
    }
    removed.add(blob.digest);
    report.blobsRemoved.push({ digest: blob.digest, size: blob.size });
    report.bytesFreed += blob.size;
  }

  for (const repository of opts.pruneLinks === false || removed.size === 0 ? [] : repositories) {
    for (const digest of await storage.links.list(repository)) {
      if (!removed.has(digest)) continue;
      if (dryRun) report.linksRemoved++;
      else if (!(await storage.blobs.stat(digest)) && (await storage.links.unlink(repository, digest))) report.linksRemoved++; // unless published again meanwhile
    }
  }

  const uploadCutoff = now - (opts.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS);
  for (const u of await storage.uploads.list()) {
    if (u.modified >= uploadCutoff) continue;
    if (!dryRun) await storage.uploads.cancel(u.repository, u.id).catch(() => undefined);
    report.uploadsRemoved.push({ id: u.id, repository: u.repository, size: u.size });
    report.bytesFreed += u.size;
  }
  // Marks of blobs gone (this sweep's are removed with them; races and crashes leave others), past the grace period.
  if (!dryRun && storage.blobs.sweepMarks) report.marksRemoved = (await storage.blobs.sweepMarks(cutoff)).length;
  // What a replica that died mid-append (or mid-publish) left at the backend, past the grace period.
  if (!dryRun && storage.uploads.abortAbandoned) report.partialUploadsAborted = await storage.uploads.abortAbandoned(cutoff);
  return report;
}

async function isTagged(storage: RegistryStorage, repository: string, digest: string): Promise<boolean> {
  let last: string | undefined;
  for (;;) {
    const page = await storage.tags.list(repository, last === undefined ? { n: 1000 } : { n: 1000, last });
    if (!page) return false;
    for (const tag of page.items) if ((await storage.tags.get(repository, tag)) === digest) return true;
    if (page.next === undefined) return false;
    last = page.next;
  }
}

/** One line per removal and a summary, as `berth registry gc` prints them. */
export function formatGcReport(r: GcReport): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const m of r.manifestsRemoved) lines.push(`${verb} manifest ${m.repository}@${m.digest}`);
  for (const b of r.blobsRemoved) lines.push(`${verb} blob ${b.digest} (${b.size} bytes)`);
  for (const u of r.uploadsRemoved) lines.push(`${verb} upload ${u.id} of ${u.repository} (${u.size} bytes)`);
  for (const key of r.partialUploadsAborted ?? []) lines.push(`aborted abandoned multipart upload of ${key}`);
  lines.push(
    `${r.repositories} repositories, ${r.manifestsRemoved.length} manifests, ${r.blobsRemoved.length} blobs (${r.blobsKept} kept), ` +
      `${r.linksRemoved} links and ${r.uploadsRemoved.length} uploads ${verb}; ${r.bytesFreed} bytes ${r.dryRun ? 'would be ' : ''}freed`,
  );
  return lines.join('\n') + '\n';
}

/** Runs one collection at a time per storage; a request while one runs waits for it and gets its report. */
export class GcRunner {
  private running: Promise<GcReport> | undefined;
  constructor(
    private readonly storage: RegistryStorage,
    private readonly defaults: GcOptions = {},
  ) {}

  run(opts: GcOptions = {}): Promise<GcReport> {
    if (this.running) return this.running;
    const p = collectGarbage(this.storage, { ...this.defaults, ...opts });
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  /** Waits for a collection in progress, if any. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
