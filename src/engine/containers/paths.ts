import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { overlayDirs, type OverlayDirs } from '../../store/overlay.js';
import { defaultRunRoot } from '../../store/paths.js';

/** Every file of one container: persistent ones under the store root, volatile ones under the run root. */
export interface ContainerPaths {
  dir: string;
  overlay: OverlayDirs;
  /** The OCI bundle: config.json, hosts, resolv.conf, hostname, conmon's attach socket and ctl fifo. */
  bundle: string;
  config: string;
  log: string;
  persist: string;
  hosts: string;
  resolvConf: string;
  hostname: string;
  /** A pod infra's /dev/shm, a tmpfs mounted here while it runs, which the members that share its IPC bind too. */
  shm: string;
  run: string;
  pidFile: string;
  conmonPidFile: string;
  exitDir: string;
  exitFile: string;
  socketDir: string;
  attachSocket: string;
  ctl: string;
  lock: string;
}

export function runRootOf(store: Store): string {
  return store.runRoot ?? defaultRunRoot();
}

export function containerPaths(store: Store, id: string): ContainerPaths {
  const dir = store.containerDir(id);
  const bundle = join(dir, 'userdata');
  const runRoot = runRootOf(store);
  const run = join(runRoot, 'containers', id);
  return {
    dir,
    overlay: overlayDirs(dir),
    bundle,
    config: join(bundle, 'config.json'),
    log: join(bundle, 'ctr.log'),
    persist: join(bundle, 'persist'),
    hosts: join(bundle, 'hosts'),
    resolvConf: join(bundle, 'resolv.conf'),
    hostname: join(bundle, 'hostname'),
    shm: join(bundle, 'shm'),
    run,
    pidFile: join(run, 'pidfile'),
    conmonPidFile: join(run, 'conmon.pid'),
    exitDir: join(runRoot, 'exits'),
    exitFile: join(runRoot, 'exits', id),
    socketDir: join(runRoot, 'socket'),
    attachSocket: join(bundle, 'attach'),
    ctl: join(bundle, 'ctl'),
    lock: join(store.root, 'containers', `${id}.lock`),
  };
}
