import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processGone } from './cli.js';
import { killProcessesMentioning } from './host-leftovers.js';
import { deleteQuickAckRoute, quickAckLoopback } from './quickack-loopback.js';
import { freePort } from './registry.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/**
 * A real S3 server for the tests: Ceph's RADOS Gateway over one monitor and one memstore OSD, all
 * private to the test (its own directory, ports, fsid and cephx keys), the daemons children of the
 * test process in the foreground, so stop() ends all of them. cephx is on because radosgw with
 * `auth = none` waits minutes for a monitor answer it never gets. Everything lives in
 * /tmp/berth-ceph-XXXX; a cluster whose test died is swept by the next start.
 */
export interface CephRgw {
  /** http://ADDRESS:PORT, path-style addressing: a loopback address of the cluster's own (quickack-loopback.ts), else 127.0.0.1. */
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** The cluster's config file, for `radosgw-admin -c` (e.g. to make another user). */
  conf: string;
  stop(): Promise<void>;
}

const DIR_PREFIX = 'berth-ceph-';
const DAEMONS = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw'];

export interface CephRgwOptions {
  /** Addresses radosgw listens on besides 127.0.0.1 (a test LAN's gateway, for replicas in namespaces); same port. */
  alsoListenOn?: string[];
  /** The OSD's capacity (it is memory): default 4 GiB. */
  memstoreBytes?: number;
  /** false: clients reach radosgw on 127.0.0.1 with the kernel's delayed ACKs, as anywhere else (benchmarks). */
  quickAck?: boolean;
}

/** Where a cluster's directory names its quickack address, so that a sweep can delete the route of a test that died. */
const QUICKACK_FILE = 'quickack-address';

/** Starts a cluster (about 10 s); throws, naming the package, when Ceph is not installed. */
export async function startCephRgw(opts: CephRgwOptions = {}): Promise<CephRgw> {
  const missing = DAEMONS.filter((d) => !existsSync(d));
  if (missing.length > 0) throw new Error(`Ceph RGW is not installed (${missing.join(', ')}): scripts/setup.sh installs radosgw, ceph-mon and ceph-osd`);
  sweepDeadClusters();
  const dir = await mkdtemp(join('/tmp', DIR_PREFIX));
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  for (const sub of ['run', 'log', 'mon', 'osd', 'rgw']) await mkdir(join(dir, sub));
  const children: ChildProcess[] = [];
  const fast = opts.quickAck === false ? undefined : quickAckLoopback();
  const host = fast?.address ?? '127.0.0.1';
  const stop = async () => {
    for (const c of children) c.kill('SIGKILL');
    await waitFor('the Ceph daemons to end', () => children.every((c) => c.pid === undefined || processGone(c.pid)) || undefined, 10_000);
    killProcessesMentioning(dir);
    fast?.release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Inside the try: a failure here still reaches stop(), which deletes the route.
    if (fast) await writeFile(join(dir, QUICKACK_FILE), fast.address);
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'ceph.conf');
    await writeFile(
      conf,
      cephConf(
        dir,
        randomUUID(),
        monPort,
        ['127.0.0.1', ...(fast ? [fast.address] : []), ...(opts.alsoListenOn ?? [])],
        rgwPort,
        opts.memstoreBytes ?? 4 * 1024 ** 3,
      ),
    );
    const c = ['-c', conf];
    const ceph = (...args: string[]) => run('ceph', [...c, ...args], { timeout: 30_000 });
    await run('ceph-authtool', ['--create-keyring', join(dir, 'mon.keyring'), '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run('ceph-authtool', [
      '--create-keyring',
      join(dir, 'admin.keyring'),
      '--gen-key',
      '-n',
      'client.admin',
      ...['--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *'],
    ]);
    await run('ceph-authtool', [join(dir, 'mon.keyring'), '--import-keyring', join(dir, 'admin.keyring')]);
    const fsid = /fsid = (\S+)/.exec(readFileSync(conf, 'utf8'))![1]!;
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'mon.keyring')]);
    children.push(daemon(dir, 'ceph-mon', [...c, '-f', '-i', 'a']));

    const osdUuid = randomUUID();
    const osdId = (await ceph('osd', 'new', osdUuid)).stdout.trim();
    await mkdir(join(dir, 'osd', `osd.${osdId}`), { recursive: true });
    await ceph(
      'auth',
      'get-or-create',
      `osd.${osdId}`,
      'mon',
      'allow profile osd',
      'mgr',
      'allow profile osd',
      'osd',
      'allow *',
      '-o',
      join(dir, 'osd', `osd.${osdId}`, 'keyring'),
    );
    await run('ceph-osd', [...c, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid], { timeout: 30_000 });
    children.push(daemon(dir, 'ceph-osd', [...c, '-f', '-i', osdId]));

    await ceph('auth', 'get-or-create', 'client.rgw', 'mon', 'allow rw', 'osd', 'allow rwx', 'mgr', 'allow rw', '-o', join(dir, 'rgw.keyring'));
    children.push(daemon(dir, 'radosgw', [...c, '-f', '-n', 'client.rgw']));
    const endpoint = `http://${host}:${rgwPort}`;
    // radosgw answers once it has made its pools, which needs the OSD up.
    await waitFor(
      'radosgw to answer',
      async () => {
        for (const ch of children) if (ch.exitCode !== null) throw new Error(`${ch.spawnfile} exited with ${ch.exitCode}: see ${dir}/log`);
        try {
          return (await fetch(endpoint, { signal: AbortSignal.timeout(2000) })).ok || undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
    );
    const accessKey = `BERTH${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretKey = randomBytes(24).toString('base64url');
    await run(
      'radosgw-admin',
      [...c, 'user', 'create', '--uid=berth-test', '--display-name=berth test', `--access-key=${accessKey}`, `--secret-key=${secretKey}`],
      {
        timeout: 30_000,
      },
    );
    return { endpoint, region: 'us-east-1', accessKey, secretKey, conf, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function daemon(dir: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: 'ignore', cwd: dir });
  child.on('error', () => {});
  return child;
}

function cephConf(dir: string, fsid: string, monPort: number, rgwAddresses: string[], rgwPort: number, memstoreBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/admin.keyring
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
ms bind ipv6 = false
[mon]
mon data = ${dir}/mon/$name
[osd]
keyring = ${dir}/osd/$name/keyring
osd objectstore = memstore
osd data = ${dir}/osd/$name
memstore device bytes = ${memstoreBytes}
[client.rgw]
keyring = ${dir}/rgw.keyring
rgw frontends = beast ${rgwAddresses.map((a) => `endpoint=${a}:${rgwPort}`).join(' ')}
rgw data = ${dir}/rgw
`;
}

/** Ends the daemons of clusters whose test process is gone, and removes their directories. */
function sweepDeadClusters(): void {
  for (const name of readdirSync('/tmp')) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join('/tmp', name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // Another test may have just made it and not yet written its owner: left for a later sweep.
      if (Date.now() - statSync(dir).mtimeMs < 60_000) continue;
      owner = 0;
    }
    if (owner > 0 && !processGone(owner)) continue;
    killProcessesMentioning(dir);
    if (existsSync(join(dir, QUICKACK_FILE))) deleteQuickAckRoute(readFileSync(join(dir, QUICKACK_FILE), 'utf8').trim());
    void rm(dir, { recursive: true, force: true });
  }
}
