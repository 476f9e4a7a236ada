import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Store } from '../engine/index.js';

/** What every handler works on: the one store the service opened for its whole life (so the store lock's in-process queue orders its requests). */
export interface ApiContext {
  store: Store;
  /** When the service started (Docker's info has no such field; events and uptime use it). */
  startedAt: Date;
}

export type ApiEnv = { Bindings: HttpBindings; Variables: { apiVersion: string } };
export type ApiApp = Hono<ApiEnv>;

/**
 * A route the client takes over the connection of (Docker's "hijack"): attach and exec start. The
 * client sends `Connection: Upgrade, Upgrade: tcp`; the handler answers `101 UPGRADED` on the raw
 * socket and then speaks the stream protocol itself. Without the upgrade headers the same routes
 * are plain requests (handled by the Hono app).
 */
export interface UpgradeRoute {
  method: string;
  /** Matched against the path without the version prefix and query; named groups become `params`. */
  pattern: RegExp;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, apiVersion: string): Promise<void>;
}

/** One noun's routes: plain ones on the app, hijacking ones returned. */
export type RouteModule = (app: ApiApp, ctx: ApiContext) => UpgradeRoute[] | undefined;
