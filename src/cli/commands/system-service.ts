import { readFile } from 'node:fs/promises';
import { defaultServiceSocket, parseServiceUri, startService } from '../../api/index.js';
import { openStore, parseGroup } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { useSelfAsExitCommand } from './_self.js';

interface ServiceFlags {
  time: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  group?: string;
}

/** `berth system service [URI]`: the Docker Engine API until idle for --time seconds (0: until SIGINT/SIGTERM). */
export async function run(g: GlobalOptions, uri: string | undefined, flags: ServiceFlags): Promise<void> {
  const idleSeconds = Number(flags.time);
  if (!Number.isInteger(idleSeconds) || idleSeconds < 0)
    throw new BerthError('USAGE', `invalid --time "${flags.time}": expected whole seconds, 0 for no limit`);
  const address = parseServiceUri(uri ?? `unix://${defaultServiceSocket()}`);
  const tlsGiven = [flags.tlsCert, flags.tlsKey, flags.tlsCa].filter((f) => f !== undefined).length;
  if (tlsGiven > 0 && tlsGiven < 3)
    throw new BerthError('USAGE', '--tls-cert, --tls-key and --tls-ca go together: the service accepts only clients with a certificate the CA signed');
  if (tlsGiven > 0 && address.kind === 'unix') throw new BerthError('USAGE', 'TLS is for tcp:// addresses; a unix socket is guarded by its file mode');
  // conmon calls this berth back when a container the service started exits (cleanup, --rm, restart policies).
  useSelfAsExitCommand();
  const socketGid = address.kind === 'unix' ? await socketGroup(flags.group) : undefined;
  const store = await openStore(engineOptions(g));
  try {
    const service = await startService({
      store,
      address,
      idleSeconds,
      ...(socketGid !== undefined ? { socketGid } : {}),
      ...(flags.tlsCert && flags.tlsKey && flags.tlsCa ? { tls: { cert: flags.tlsCert, key: flags.tlsKey, ca: flags.tlsCa } } : {}),
    });
    process.stderr.write(`berth API service listening on ${service.url}\n`);
    const stop = () => void service.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await service.done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  } finally {
    await store.close();
  }
}

/**
 * The socket's group, as dockerd's --group: given by name, or `docker` where that group exists (so
 * the users an administrator let use Docker may use berth the same way), else root's alone.
 */
async function socketGroup(name: string | undefined): Promise<number | undefined> {
  const groups = parseGroup((await readFile('/etc/group', 'utf8').catch(() => '')).split('\n').map((l) => l.split(':')));
  const gidOf = (n: string) => groups.find((g) => g.name === n)?.gid;
  if (name === undefined) return gidOf('docker');
  if (/^\d+$/.test(name)) return Number(name);
  const gid = gidOf(name);
  if (gid === undefined) throw new BerthError('USAGE', `--group ${name}: no such group in /etc/group`);
  return gid;
}
