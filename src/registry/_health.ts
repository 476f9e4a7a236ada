// Routes for operators and load balancers beside /v2/, on the registry's own address: /healthz (the
// process serves) and /readyz (the storage answers, and the server is not shutting down), open to all as
// load balancers call them; /metrics (Prometheus text), which access control, when there is one, treats as
// the catalog: whoever may list the catalog ([auth] catalog) may read the metrics.
import type { Context, MiddlewareHandler } from 'hono';
import type { RegistryEnv } from './app.js';
import { errnoCode } from '../util/errors.js';
import type { RegistryLog } from './log.js';
import { json } from './routes/_http.js';
import type { RegistryMetrics } from './_metrics.js';
import type { RegistryStorage } from './storage/types.js';

/** A storage that does not answer within this long is not ready (a load balancer's probe times out too). */
export const READY_CHECK_TIMEOUT_MS = 5000;

export interface OpsRoute {
  path: string;
  methods: string[];
  handler: (c: Context) => Response | Promise<Response>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface OpsRoutesOptions {
  storage: RegistryStorage;
  metrics?: RegistryMetrics | undefined;
  draining: () => boolean;
  log: RegistryLog;
  /** Access control's middleware: it throws the 401 or 403 for a request it refuses. */
  access?: MiddlewareHandler<RegistryEnv> | undefined;
}

export function opsRoutes(opts: OpsRoutesOptions): OpsRoute[] {
  const { storage, metrics } = opts;
  const routes: OpsRoute[] = [
    { path: '/healthz', methods: ['GET', 'HEAD'], handler: () => json(200, { status: 'ok' }) },
    {
      path: '/readyz',
      methods: ['GET', 'HEAD'],
      handler: async () => {
        if (opts.draining()) return json(503, { status: 'unavailable', checks: { server: 'shutting down' } });
        if (!storage.check) return json(200, { status: 'ok', checks: { storage: 'ok' } });
        try {
          await withTimeout(storage.check(), READY_CHECK_TIMEOUT_MS, 'storage');
        } catch (e) {
          // The body names what failed, for anyone who can reach the port; the log says the rest.
          opts.log.warn(`registry: storage is not ready: ${e instanceof Error ? e.message : String(e)}`);
          return json(503, { status: 'unavailable', checks: { storage: errnoCode(e) ?? 'failed' } });
        }
        return json(200, { status: 'ok', checks: { storage: 'ok' } });
      },
    },
  ];
  if (metrics) {
    routes.push({
      path: '/metrics',
      methods: ['GET'],
      handler: async (c) => {
        if (opts.access) {
          const guarded = c as Context<RegistryEnv>;
          guarded.set('target', { kind: 'catalog', action: 'catalog' });
          await opts.access(guarded, async () => {});
        }
        const { text, contentType } = await metrics.render();
        return new Response(text, { status: 200, headers: { 'Content-Type': contentType } });
      },
    });
  }
  return routes;
}
