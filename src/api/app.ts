// The Docker Engine API as a Hono app: one module of routes per noun, each calling the engine's faces
// (the same functions the CLI calls), and Docker's error shape for whatever a handler throws.
import { Hono } from 'hono';
import type { ApiApp, ApiContext, ApiEnv, RouteModule, UpgradeRoute } from './context.js';
import { errorResponse } from './errors.js';
import { MAX_API_VERSION } from './version.js';
import { systemRoutes } from './routes/system.js';
import { containerRoutes } from './routes/containers.js';
import { imageRoutes } from './routes/images.js';
import { networkRoutes } from './routes/networks.js';
import { volumeRoutes } from './routes/volumes.js';
import { execRoutes } from './routes/exec.js';
import { buildRoutes } from './routes/build.js';
import { imageTransferRoutes } from './routes/image-transfer.js';
import { systemDfRoutes } from './routes/system-df.js';
import { containerStreamRoutes } from './routes/container-streams.js';

/** The header the service sets on each request to the version its path asked for (a client's own value is overwritten). */
export const API_VERSION_HEADER = 'x-berth-api-version';

/**
 * What every Docker response says of the engine (clients read them from `_ping` to negotiate). The
 * service sets them on the Node response before the app answers: set through hono after a handler,
 * they made it build every response a second time.
 */
export const ENGINE_HEADERS: Readonly<Record<string, string>> = {
  'Api-Version': MAX_API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: 'berth (linux)',
};

const MODULES: RouteModule[] = [
  systemRoutes,
  containerRoutes,
  imageRoutes,
  networkRoutes,
  volumeRoutes,
  execRoutes,
  imageTransferRoutes,
  buildRoutes,
  systemDfRoutes,
  containerStreamRoutes,
];

export function createApiApp(ctx: ApiContext): { app: ApiApp; upgrades: UpgradeRoute[] } {
  const app: ApiApp = new Hono<ApiEnv>();
  app.use(async (c, next) => {
    c.set('apiVersion', c.req.header(API_VERSION_HEADER) ?? MAX_API_VERSION);
    await next();
  });
  app.onError((e, c) => {
    const { status, message } = errorResponse(e);
    if (status >= 500) console.error(`berth service: ${c.req.method} ${c.req.path}: ${e.stack ?? e.message}`);
    return c.json({ message }, status as 500);
  });
  app.notFound((c) => c.json({ message: `page not found: ${c.req.method} ${c.req.path}` }, 404));
  const upgrades: UpgradeRoute[] = [];
  for (const register of MODULES) upgrades.push(...(register(app, ctx) ?? []));
  return { app, upgrades };
}
