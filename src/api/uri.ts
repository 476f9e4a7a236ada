// Where `berth system service` listens: podman's URI forms. A Unix socket by default; TCP only with
// TLS client certificates, because whoever reaches the Docker API can start a privileged container
// and so owns the host.
import { join } from 'node:path';
import { BerthError } from '../util/errors.js';

export type ServiceAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:///run/berth/berth.sock` as root; `$XDG_RUNTIME_DIR/berth/berth.sock` (or /tmp/berth-UID/) otherwise. */
export function defaultServiceSocket(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  if (uid === 0) return '/run/berth/berth.sock';
  return join(env.XDG_RUNTIME_DIR || `/tmp/berth-${uid}`, 'berth', 'berth.sock');
}

export function parseServiceUri(uri: string): ServiceAddress {
  const bad = (why: string) => new BerthError('USAGE', `invalid service URI "${uri}": ${why}`);
  if (uri.startsWith('unix://')) {
    const path = uri.slice('unix://'.length);
    if (!path.startsWith('/')) throw bad('a unix socket path must be absolute (unix:///path/to/sock)');
    return { kind: 'unix', path };
  }
  if (uri.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${uri.slice('tcp://'.length)}`);
    } catch {
      throw bad('expected tcp://HOST:PORT');
    }
    if (url.pathname !== '/' || url.search || url.username) throw bad('expected tcp://HOST:PORT');
    if (!url.port) throw bad('a TCP address needs a port (tcp://HOST:PORT)');
    return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
  }
  throw bad('only unix:// and tcp:// are supported');
}

export function formatServiceAddress(a: ServiceAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
