import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../engine/index.js';
import { containerRecord } from '../../testing/container-record.js';
import { dockerNetworkMode, dockerStatus, inspectBody, listEntry } from './container-json.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');

function record(patch: { state?: Partial<ContainerRecord['state']>; config?: Partial<ContainerRecord['config']> } = {}): ContainerRecord {
  return containerRecord({
    config: {
      entrypoint: ['sh'],
      command: ['-c', 'sleep 1'],
      env: ['A=1'],
      labels: { 'com.docker.compose.service': 'web' },
      network: { mode: 'bridge', networks: { proj_default: { aliases: ['web'], staticIps: ['10.89.0.5'], interfaceName: 'eth0' } }, expose: ['9000/tcp'] },
      volumes: ['/srv:/srv:ro'],
      tmpfs: ['/run:size=1m'],
      mountSpecs: [
        { type: 'bind', source: '/srv', destination: '/srv', options: ['ro'] },
        { type: 'volume', name: 'data', anonymous: false, destination: '/data', options: [], noCopy: false },
        { type: 'tmpfs', destination: '/run', options: ['rw'] },
      ],
      ulimits: ['nofile=1024:2048'],
      ...patch.config,
    },
    state: { status: 'running', pid: 42, conmonPid: 41, mounted: true, startedAt: '2026-01-01T00:00:57Z', ...patch.state },
  });
}

describe('containers in Docker’s shapes', { timeout: 10_000 }, () => {
  test('Status in Docker’s words', () => {
    assert.equal(dockerStatus(record(), undefined, NOW), 'Up 3 seconds');
    assert.equal(dockerStatus(record(), 'healthy', NOW), 'Up 3 seconds (healthy)');
    assert.equal(dockerStatus(record(), 'starting', NOW), 'Up 3 seconds (health: starting)');
    assert.equal(dockerStatus(record({ state: { status: 'paused' } }), undefined, NOW), 'Up 3 seconds (Paused)');
    assert.equal(
      dockerStatus(record({ state: { status: 'exited', exitCode: 3, finishedAt: '2026-01-01T00:00:58Z' } }), undefined, NOW),
      'Exited (3) 2 seconds ago',
    );
    assert.equal(dockerStatus(record({ state: { status: 'created' } }), undefined, NOW), 'Created');
  });

  test('NetworkMode: bridge for the default network, a user network by name', () => {
    assert.equal(dockerNetworkMode(record(), 'podman'), 'proj_default');
    assert.equal(
      dockerNetworkMode(
        record({ config: { network: { mode: 'bridge', networks: { podman: { aliases: [], staticIps: [], interfaceName: 'eth0' } } } } }),
        'podman',
      ),
      'bridge',
    );
    assert.equal(dockerNetworkMode(record({ config: { network: { mode: 'host' } } }), 'podman'), 'host');
    assert.equal(dockerNetworkMode(record({ config: { network: { mode: 'container', container: 'abc' } } }), 'podman'), 'container:abc');
  });

  test('a list entry', () => {
    const ports = [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }];
    const networks = { proj_default: { IPAddress: '10.89.0.5', Gateway: '10.89.0.1', MacAddress: 'aa', Aliases: ['web', 'aaaaaaaaaaaa'] } };
    const entry = listEntry(
      record(),
      ports,
      { Networks: networks },
      'podman',
      { networkIds: new Map([['proj_default', 'f'.repeat(64)]]), volumeDir: (n) => `/vol/${n}` },
      NOW,
    ) as any;
    assert.equal(entry.Id, 'a'.repeat(64));
    assert.deepEqual(entry.Names, ['/web']);
    assert.equal(entry.Image, 'busybox:latest');
    assert.equal(entry.ImageID, 'sha256:' + 'b'.repeat(64));
    assert.equal(entry.Command, 'sh -c sleep 1');
    assert.equal(entry.Created, Date.parse('2026-01-01T00:00:00Z') / 1000);
    assert.deepEqual(entry.Ports, [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 9000, Type: 'tcp' },
    ]);
    assert.equal(entry.State, 'running');
    assert.equal(entry.Status, 'Up 3 seconds');
    assert.deepEqual(entry.HostConfig, { NetworkMode: 'proj_default' });
    const net = entry.NetworkSettings.Networks.proj_default;
    assert.equal(net.NetworkID, 'f'.repeat(64));
    assert.equal(net.IPAddress, '10.89.0.5');
    assert.deepEqual(net.IPAMConfig, { IPv4Address: '10.89.0.5' });
    // dockerd's list carries no aliases (its inspect does).
    assert.equal(net.Aliases, null);
    assert.deepEqual(entry.Mounts, [
      { Type: 'bind', Source: '/srv', Destination: '/srv', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'volume', Name: 'data', Source: '/vol/data', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' },
    ]);
    assert.equal(entry.SizeRw, undefined);
    const sized = listEntry(record(), [], {}, 'podman', { size: { rw: 5, rootFs: 105 } }, NOW) as any;
    assert.equal(sized.SizeRw, 5);
    assert.equal(sized.SizeRootFs, 105);
  });

  test('inspect: Docker’s names and types over the engine’s inspect', () => {
    const podman = {
      Path: 'sh',
      Args: ['-c', 'sleep 1'],
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '0' }] }, ShmSize: 65536000 },
      NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '', HostPort: '34567' }], '9000/tcp': null }, IPAddress: '10.89.0.5', Networks: {} },
    };
    const health = { Status: 'healthy' as const, FailingStreak: 0, Log: [] };
    const body = inspectBody(record({ config: { restartPolicy: { name: 'always', maxRetries: 0 } } }), podman, 'podman', { health }) as any;
    assert.equal(body.Name, '/web');
    assert.equal(body.State.Status, 'running');
    assert.equal(body.State.Running, true);
    assert.equal(body.State.Pid, 42);
    assert.deepEqual(body.State.Health, health);
    assert.equal(body.Config.Labels['com.docker.compose.service'], 'web');
    assert.deepEqual(body.Config.Entrypoint, ['sh']);
    assert.deepEqual(body.Config.Cmd, ['-c', 'sleep 1']);
    assert.deepEqual(body.Config.ExposedPorts, { '9000/tcp': {} });
    assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(body.HostConfig.LogConfig, { Type: 'json-file', Config: {} });
    assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '' }] });
    assert.deepEqual(body.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
    // As dockerd: the tmpfs options as given, null for lists never given.
    assert.deepEqual(body.HostConfig.Tmpfs, { '/run': 'size=1m' });
    assert.equal(body.HostConfig.Dns, null);
    assert.equal(body.HostConfig.Devices, null);
    assert.deepEqual(body.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '34567' }], '9000/tcp': null });
    assert.equal(body.NetworkSettings.IPAddress, '10.89.0.5');
    const exited = inspectBody(record({ state: { status: 'exited', exitCode: 2, pid: 0 } }), podman, 'podman') as any;
    assert.equal(exited.State.Running, false);
    assert.equal(exited.State.ExitCode, 2);
    assert.equal(exited.State.Pid, 0);
    assert.equal(exited.State.Health, undefined);
    // The default network under Docker's name; the host's network as dockerd's pseudo-network.
    const onDefault = record({ config: { network: { mode: 'bridge', networks: { podman: { aliases: [], staticIps: [], interfaceName: 'eth0' } } } } });
    const listed = listEntry(
      onDefault,
      [],
      { Networks: { podman: { IPAddress: '10.88.0.2' } } },
      'podman',
      { networkIds: new Map([['podman', 'd'.repeat(64)]]) },
      NOW,
    ) as any;
    assert.deepEqual(Object.keys(listed.NetworkSettings.Networks), ['bridge']);
    assert.equal(listed.NetworkSettings.Networks.bridge.NetworkID, 'd'.repeat(64));
    assert.equal(listed.HostConfig.NetworkMode, 'bridge');
    const host = listEntry(
      record({ config: { network: { mode: 'host' } } }),
      [],
      {},
      'podman',
      { networkIds: new Map([['host', 'e'.repeat(64)]]) },
      NOW,
    ) as any;
    assert.deepEqual(Object.keys(host.NetworkSettings.Networks), ['host']);
    assert.equal(host.NetworkSettings.Networks.host.NetworkID, 'e'.repeat(64));
  });
});
