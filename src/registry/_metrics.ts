// The registry's Prometheus metrics, in a prom-client Registry of its own (not the global one), so that
// two servers in one process (tests, a proxy in front of a registry) keep separate counts.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GcReport } from './gc.js';

/** What a request is about, for labels: a RegistryTarget kind with the two upload kinds as one, or other. */
export type RouteKind = 'base' | 'catalog' | 'blob' | 'manifest' | 'upload' | 'tags' | 'referrers' | 'other';

const PREFIX = 'berth_registry_';
/** Seconds: manifest reads take a millisecond, a large blob streamed over a slow link minutes. */
const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const STORAGE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Methods that are not standard HTTP are counted as one, so that a client cannot grow the label set. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class RegistryMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'code'>;
  private readonly duration: Histogram<'route' | 'method' | 'code'>;
  private readonly inFlight: Gauge;
  private readonly received: Counter<'route'>;
  private readonly sent: Counter<'route'>;
  private readonly uploadsStarted: Counter;
  private readonly uploadsFinished: Counter<'result'>;
  private readonly uploadsInFlight: Gauge;
  private readonly gcRuns: Counter<'result'>;
  private readonly gcFreed: Counter;
  private readonly gcRemoved: Counter<'kind'>;
  private readonly storageDuration: Histogram<'operation' | 'result'>;
  /** Upload sessions this process started and has not seen end (repository and id). */
  private readonly openUploads = new Set<string>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by route kind, method and status code (499: the client left before the response began)',
      labelNames: ['route', 'method', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time from a request arriving to its response sent (or the client gone), by route kind, method and status code',
      labelNames: ['route', 'method', 'code'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({ name: `${PREFIX}http_requests_in_flight`, help: 'Requests being served now', registers });
    this.received = new Counter({
      name: `${PREFIX}http_received_bytes_total`,
      help: 'Bytes received on the connection for requests (headers and bodies), by route kind',
      labelNames: ['route'],
      registers,
    });
    this.sent = new Counter({
      name: `${PREFIX}http_sent_bytes_total`,
      help: 'Bytes sent on the connection for responses (headers and bodies), by route kind',
      labelNames: ['route'],
      registers,
    });
    this.uploadsStarted = new Counter({ name: `${PREFIX}upload_sessions_started_total`, help: 'Blob upload sessions started', registers });
    this.uploadsFinished = new Counter({
      name: `${PREFIX}upload_sessions_finished_total`,
      help: 'Blob upload sessions ended: completed (the blob published), failed (digest mismatch) or cancelled',
      labelNames: ['result'],
      registers,
    });
    this.uploadsInFlight = new Gauge({
      name: `${PREFIX}upload_sessions_in_flight`,
      help: 'Upload sessions this process started that have not ended yet (abandoned ones count until GC removes them)',
      registers,
    });
    this.gcRuns = new Counter({
      name: `${PREFIX}gc_runs_total`,
      help: 'Online garbage collections, by result (ok or error)',
      labelNames: ['result'],
      registers,
    });
    this.gcFreed = new Counter({ name: `${PREFIX}gc_freed_bytes_total`, help: 'Bytes of blobs and upload sessions garbage collection removed', registers });
    this.gcRemoved = new Counter({
      name: `${PREFIX}gc_removed_total`,
      help: 'What garbage collection removed, by kind (blob, manifest, upload)',
      labelNames: ['kind'],
      registers,
    });
    this.storageDuration = new Histogram({
      name: `${PREFIX}storage_operation_duration_seconds`,
      help: 'Latency of storage operations, by operation (store.method) and result (ok or error)',
      labelNames: ['operation', 'result'],
      buckets: STORAGE_BUCKETS,
      registers,
    });
    // Process memory, CPU, event-loop lag and V8 heap: what "memory per replica" is read from.
    collectDefaultMetrics({ register: this.registry });
  }

  requestStarted(): void {
    this.inFlight.inc();
  }

  requestEnded(route: RouteKind, method: string, code: number, seconds: number, bytesIn: number, bytesOut: number): void {
    const labels = { route, method: METHODS.has(method) ? method : 'other', code: String(code) };
    this.inFlight.dec();
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
    if (bytesIn > 0) this.received.inc({ route }, bytesIn);
    if (bytesOut > 0) this.sent.inc({ route }, bytesOut);
  }

  storageOperation(operation: string, ok: boolean, seconds: number): void {
    this.storageDuration.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  uploadStarted(repository: string, id: string): void {
    this.uploadsStarted.inc();
    this.openUploads.add(`${repository}\n${id}`);
    this.uploadsInFlight.set(this.openUploads.size);
  }

  /** A session ended here; counted only once, and only if this process started it (a replica may have). */
  uploadEnded(repository: string, id: string, result: 'completed' | 'failed' | 'cancelled' | 'collected'): void {
    if (result !== 'collected') this.uploadsFinished.inc({ result });
    this.openUploads.delete(`${repository}\n${id}`);
    this.uploadsInFlight.set(this.openUploads.size);
  }

  gcRun(report: GcReport | Error): void {
    if (report instanceof Error) {
      this.gcRuns.inc({ result: 'error' });
      return;
    }
    this.gcRuns.inc({ result: 'ok' });
    if (report.dryRun) return;
    this.gcFreed.inc(report.bytesFreed);
    this.gcRemoved.inc({ kind: 'blob' }, report.blobsRemoved.length);
    this.gcRemoved.inc({ kind: 'manifest' }, report.manifestsRemoved.length);
    this.gcRemoved.inc({ kind: 'upload' }, report.uploadsRemoved.length);
    for (const u of report.uploadsRemoved) this.uploadEnded(u.repository, u.id, 'collected');
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
