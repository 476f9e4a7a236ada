import type { ContainerRecord } from '../store/containers.js';

/** What a test says of the record it needs; everything else is what `create` writes by default. */
export interface ContainerRecordPatch {
  id?: string;
  name?: string;
  created?: string;
  config?: Partial<ContainerRecord['config']>;
  state?: Partial<ContainerRecord['state']>;
}

/**
 * A container record as `create` writes it for `busybox sh` with no flags (created, not started), for
 * unit tests of what reads records: each test names only the fields it looks at.
 */
export function containerRecord(p: ContainerRecordPatch = {}): ContainerRecord {
  const id = p.id ?? 'a'.repeat(64);
  return {
    id,
    name: p.name ?? 'web',
    image: `sha256:${'b'.repeat(64)}`,
    imageName: 'localhost/busybox:latest',
    layers: [],
    created: p.created ?? '2026-01-01T00:00:00Z',
    config: {
      entrypoint: [],
      command: ['sh'],
      env: [],
      user: '',
      workdir: '/',
      tty: false,
      stdin: false,
      hostname: id.slice(0, 12),
      labels: {},
      annotations: {},
      stopSignal: 'SIGTERM',
      stopTimeout: 10,
      runtime: 'crun',
      network: { mode: 'bridge', networks: { podman: { aliases: [], staticIps: [], interfaceName: 'eth0' } } },
      volumes: [],
      mounts: [],
      tmpfs: [],
      mountSpecs: [],
      privileged: false,
      capAdd: [],
      capDrop: [],
      securityOpt: [],
      readOnly: false,
      init: false,
      ulimits: [],
      autoRemove: false,
      restartPolicy: { name: 'no', maxRetries: 0 },
      createCommand: [],
      ...p.config,
    },
    state: {
      status: 'created',
      pid: 0,
      conmonPid: 0,
      exitCode: 0,
      oomKilled: false,
      restartCount: 0,
      stoppedByUser: false,
      mounted: false,
      helpers: [],
      ...p.state,
    },
  };
}
