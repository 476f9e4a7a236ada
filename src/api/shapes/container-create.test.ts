import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOptionsFromDocker, imageWithTag, isZero, updateOptionsFromDocker } from './container-create.js';
import { ApiError } from '../errors.js';

const is400 = (field: string) => (e: unknown) => e instanceof ApiError && e.status === 400 && e.message.includes(field);

describe('a Docker create body as the engine’s create options', { timeout: 10_000 }, () => {
  test('the process, environment and labels in the words `berth create` takes', () => {
    const { options, warnings } = createOptionsFromDocker(
      {
        Image: 'busybox',
        Cmd: ['-c', 'echo hi'],
        Entrypoint: ['sh'],
        Env: ['A=1'],
        Labels: { 'com.docker.compose.project': 'p' },
        User: '1000:1000',
        WorkingDir: '/work',
        Hostname: 'h',
        Domainname: 'example.com',
        Tty: true,
        OpenStdin: true,
        StopSignal: 'SIGINT',
        StopTimeout: 3,
        Volumes: { '/data': {} },
      },
      'web',
    );
    assert.deepEqual(warnings, []);
    assert.equal(options.image, 'busybox');
    assert.equal(options.pull, 'never');
    assert.equal(options.name, 'web');
    assert.deepEqual(options.command, ['-c', 'echo hi']);
    assert.equal(options.entrypoint, '["sh"]');
    assert.deepEqual(options.env, ['A=1']);
    assert.deepEqual(options.labels, ['com.docker.compose.project=p']);
    assert.equal(options.user, '1000:1000');
    assert.equal(options.workdir, '/work');
    assert.equal(options.createWorkdir, true);
    assert.equal(options.hostname, 'h');
    assert.equal(options.domainname, 'example.com');
    assert.equal(options.tty, true);
    assert.equal(options.stdin, true);
    assert.equal(options.stopSignal, 'SIGINT');
    assert.equal(options.stopTimeout, 3);
    assert.deepEqual(options.volumes, ['/data']);
    assert.deepEqual(options.network, ['bridge']);
  });

  test('Config.Volumes: anonymous volumes, less what a bind, mount or tmpfs covers (docker-py lists them all)', () => {
    const { options } = createOptionsFromDocker(
      {
        Image: 'x',
        Volumes: { '/data': {}, '/named/': {}, '/anon': {}, '/m': {}, '/t': {} },
        HostConfig: { Binds: ['/srv/data:/data:rw', 'proj_named:/named'], Mounts: [{ Type: 'volume', Target: '/m' }], Tmpfs: { '/t': '' } },
      },
      undefined,
    );
    assert.deepEqual(options.volumes, ['/srv/data:/data:rw', 'proj_named:/named', '/anon']);
  });

  test('an empty Entrypoint keeps the image’s, [""] clears it; a null Cmd keeps the image’s', () => {
    assert.equal(createOptionsFromDocker({ Image: 'x', Entrypoint: [] }, undefined).options.entrypoint, undefined);
    assert.equal(createOptionsFromDocker({ Image: 'x', Entrypoint: [''] }, undefined).options.entrypoint, '');
    assert.equal(createOptionsFromDocker({ Image: 'x', Entrypoint: 'sh -c' }, undefined).options.entrypoint, 'sh -c');
    assert.deepEqual(createOptionsFromDocker({ Image: 'x', Cmd: null }, undefined).options.command, []);
  });

  test('HostConfig: mounts, ports, resources, security, name resolution', () => {
    const { options } = createOptionsFromDocker(
      {
        Image: 'busybox',
        ExposedPorts: { '80/tcp': {}, '53/udp': {} },
        HostConfig: {
          Binds: ['/srv:/srv:ro', 'data:/data'],
          Mounts: [
            { Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { NoCopy: true } },
            { Type: 'bind', Source: '/etc', Target: '/host-etc', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
            { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
          ],
          Tmpfs: { '/run': 'size=1m', '/tmp': '' },
          PortBindings: {
            '80/tcp': [{ HostIp: '', HostPort: '8080' }],
            '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
            '443/tcp': [{ HostIp: '::1', HostPort: '8443' }],
            '9000/tcp': null,
            '7000/tcp': [{ HostPort: '0' }],
          },
          PublishAllPorts: true,
          RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
          AutoRemove: false,
          Memory: 64 * 1024 * 1024,
          NanoCpus: 500_000_000,
          CpuShares: 512,
          PidsLimit: 100,
          MemorySwappiness: -1,
          CapAdd: ['NET_ADMIN'],
          CapDrop: ['MKNOD'],
          Privileged: false,
          SecurityOpt: ['no-new-privileges'],
          Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
          Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }],
          Init: true,
          ExtraHosts: ['db:10.0.0.5'],
          Dns: ['1.1.1.1'],
          DnsSearch: ['example.com'],
          DnsOptions: ['ndots:2'],
          ReadonlyRootfs: true,
          ShmSize: 32 * 1024 * 1024,
          Sysctls: { 'net.ipv4.ip_forward': '1' },
          PidMode: '',
          IpcMode: 'private',
          LogConfig: { Type: 'json-file', Config: {} },
          ConsoleSize: [0, 0],
        },
      },
      undefined,
    );
    assert.deepEqual(options.volumes, ['/srv:/srv:ro', 'data:/data']);
    assert.deepEqual(options.mounts, [
      'type=volume,source=v,target=/v,volume-nocopy',
      'type=bind,source=/etc,target=/host-etc,readonly,bind-propagation=rslave',
      'type=tmpfs,target=/scratch,tmpfs-size=1048576,tmpfs-mode=1777',
    ]);
    assert.deepEqual(options.tmpfs, ['/run:size=1m', '/tmp']);
    assert.deepEqual(options.publish, ['8080:80/tcp', '127.0.0.1::53/udp', '[::1]:8443:443/tcp', '7000/tcp']);
    assert.equal(options.publishAll, true);
    assert.deepEqual(options.expose, ['80/tcp', '53/udp']);
    assert.equal(options.restart, 'on-failure:2');
    assert.equal(options.memory, String(64 * 1024 * 1024));
    assert.equal(options.cpus, '0.5');
    assert.equal(options.pidsLimit, '100');
    assert.deepEqual(options.tuning, { cpuShares: '512', shmSize: String(32 * 1024 * 1024), sysctl: ['net.ipv4.ip_forward=1'], ipc: 'private' });
    assert.deepEqual(options.capAdd, ['NET_ADMIN']);
    assert.deepEqual(options.capDrop, ['MKNOD']);
    assert.deepEqual(options.securityOpt, ['no-new-privileges']);
    assert.deepEqual(options.ulimits, ['nofile=1024:2048']);
    assert.deepEqual(options.devices, ['/dev/null:/dev/mynull:rw']);
    assert.equal(options.init, true);
    assert.deepEqual(options.addHosts, ['db:10.0.0.5']);
    assert.deepEqual(options.dns, ['1.1.1.1']);
    assert.deepEqual(options.dnsSearch, ['example.com']);
    assert.deepEqual(options.dnsOptions, ['ndots:2']);
    assert.equal(options.readOnly, true);
  });

  test('networks: the mode’s network first, each endpoint with its aliases and addresses', () => {
    const net = (body: object) => createOptionsFromDocker({ Image: 'x', ...body }, undefined).options.network;
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'default' } }), ['bridge']);
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'host' } }), ['host']);
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'none' }, NetworkingConfig: { EndpointsConfig: { x: {} } } }), ['none']);
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'container:abc' } }), ['container:abc']);
    assert.deepEqual(net({ NetworkDisabled: true }), ['none']);
    assert.deepEqual(
      net({
        HostConfig: { NetworkMode: 'proj_default' },
        NetworkingConfig: {
          EndpointsConfig: {
            other: { Aliases: ['o'] },
            proj_default: { Aliases: ['web', 'abc123'], IPAMConfig: { IPv4Address: '10.89.0.5' }, MacAddress: '02:00:00:00:00:01' },
          },
        },
      }),
      ['proj_default:alias=web,alias=abc123,ip=10.89.0.5,mac=02:00:00:00:00:01', 'other:alias=o'],
    );
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'n1' } }), ['n1']);
    assert.deepEqual(net({ HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['a'] } } } }), ['bridge:alias=a']);
  });

  test('healthchecks: the test, the timings in nanoseconds, NONE, and an empty test keeping the image’s', () => {
    const health = (hc: object) => createOptionsFromDocker({ Image: 'x', Healthcheck: hc }, undefined).options.health;
    assert.deepEqual(health({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4, StartPeriod: 1e9 }), {
      healthCmd: '["CMD-SHELL","true"]',
      healthInterval: '5000000000ns',
      healthTimeout: '2000000000ns',
      healthStartPeriod: '1000000000ns',
      healthRetries: '4',
    });
    assert.deepEqual(health({ Test: ['NONE'] }), { noHealthcheck: true });
    assert.deepEqual(health({ Test: [], Interval: 1e9 }), { healthInterval: '1000000000ns' });
  });

  test('what berth cannot honour: a 400 naming the field where it matters, a warning where it does not', () => {
    const make = (body: object) => createOptionsFromDocker({ Image: 'x', ...body }, undefined);
    assert.throws(() => make({ HostConfig: { CgroupParent: '/custom' } }), is400('HostConfig.CgroupParent'));
    assert.throws(() => make({ HostConfig: { Links: ['db:db'] } }), is400('HostConfig.Links'));
    assert.throws(() => make({ HostConfig: { DeviceRequests: [{ Count: -1 }] } }), is400('HostConfig.DeviceRequests'));
    assert.throws(() => make({ HostConfig: { UsernsMode: 'keep-id' } }), is400('HostConfig.UsernsMode'));
    assert.throws(() => make({ HostConfig: { Mounts: [{ Type: 'npipe', Target: '/x' }] } }), is400('HostConfig.Mounts'));
    assert.throws(() => createOptionsFromDocker({}, undefined), is400('Config.Image'));
    // Relative to what? The service's directory is not the client's.
    assert.throws(() => make({ HostConfig: { Binds: ['./data:/data'] } }), is400('HostConfig.Binds'));
    assert.throws(() => make({ HostConfig: { Mounts: [{ Type: 'bind', Source: 'data', Target: '/data' }] } }), is400('HostConfig.Mounts'));
    // A bare NAME would take the service's own environment.
    assert.deepEqual(make({ Env: ['HOME', 'A=1'] }).options.env, ['A=1']);
    // Zero values are what clients send for "not set".
    assert.deepEqual(make({ HostConfig: { CgroupParent: '', Links: null, DeviceRequests: [], KernelMemory: 0, UsernsMode: '' } }).warnings, []);
    assert.deepEqual(make({ HostConfig: { KernelMemory: 1024 } }).warnings, ['HostConfig.KernelMemory is not supported by berth and was ignored']);
    assert.match(make({ HostConfig: { LogConfig: { Type: 'syslog' } } }).warnings[0]!, /log driver "syslog" is not supported/);
    assert.match(make({ HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } } } }).warnings[0]!, /log options max-size/);
  });

  test('the engine’s own warnings join Docker’s', () => {
    const { options, warnings } = createOptionsFromDocker({ Image: 'x' }, undefined);
    options.warn?.('ports are discarded with --network host');
    assert.deepEqual(warnings, ['ports are discarded with --network host']);
  });

  test('zero values and the image’s :latest', () => {
    assert.ok(isZero({ Name: '', MaximumRetryCount: 0 }));
    assert.ok(!isZero({ Name: 'always' }));
    assert.equal(imageWithTag('busybox'), 'busybox:latest');
    assert.equal(imageWithTag('localhost:5000/busybox'), 'localhost:5000/busybox:latest');
    assert.equal(imageWithTag('busybox:1.36'), 'busybox:1.36');
    assert.equal(imageWithTag('busybox@sha256:abc'), 'busybox@sha256:abc');
  });

  test('an update body: only what is set changes; what berth cannot change is refused', () => {
    const { options, warnings } = updateOptionsFromDocker({
      Memory: 128 * 1024 * 1024,
      NanoCpus: 1e9,
      CpuShares: 256,
      PidsLimit: 0,
      MemorySwappiness: -1,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      Devices: [],
    });
    assert.deepEqual(options, { memory: String(128 * 1024 * 1024), cpus: '1', restart: 'on-failure:2', tuning: { cpuShares: '256' } });
    assert.deepEqual(warnings, []);
    assert.deepEqual(updateOptionsFromDocker({ RestartPolicy: { Name: '' } }).options, {});
    assert.deepEqual(updateOptionsFromDocker({ RestartPolicy: { Name: 'no' } }).options, { restart: 'no' });
    assert.throws(() => updateOptionsFromDocker({ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] }), is400('Ulimits cannot be updated'));
  });
});
