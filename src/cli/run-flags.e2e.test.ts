import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv, inspectContainer as inspect } from '../testing/containers.js';

/** podman 4.3's newer run/create flags, checked by their effect inside the container. */
describe('run/create: the newer flags take effect in the container', { timeout: 240_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  const sh = async (flags: string[], script: string) => (await env.ok(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'sh', '-c', script])).stdout;

  it('--shm-size, --sysctl, --group-add, --umask, --tz, --unsetenv, --oom-score-adj', async () => {
    const zone = '/usr/share/zoneinfo/Europe/Berlin';
    const out = await sh(
      [
        '--shm-size',
        '32m',
        '--sysctl',
        'net.ipv4.ip_forward=1',
        '--group-add',
        '10',
        '--group-add',
        'nogroup',
        '--umask',
        '077',
        '--tz',
        'Europe/Berlin',
        '-v',
        `${zone}:/zone:ro`,
        '--unsetenv',
        'container',
        '--oom-score-adj',
        '100',
      ],
      'df -k /dev/shm | tail -1 | awk "{print \\$2}"; cat /proc/sys/net/ipv4/ip_forward; id -G; touch /tmp/f; stat -c %a /tmp/f; ' +
        'cmp /etc/localtime /zone && echo same-zone; env | grep -c ^container=; cat /proc/self/oom_score_adj',
    );
    assert.deepEqual(out.trim().split('\n'), ['32768', '1', '0 10 65534', '600', 'same-zone', '0', '100']);
  });

  it('cgroup v1 files: --memory-swap, --memory-reservation, --cpu-shares, --cpu-quota/--cpu-period, --cpuset-cpus, --oom-kill-disable', async () => {
    const out = await sh(
      [
        '-m',
        '100m',
        '--memory-swap',
        '200m',
        '--memory-reservation',
        '50m',
        '--cpu-shares',
        '512',
        '--cpu-period',
        '50000',
        '--cpu-quota',
        '25000',
        '--cpuset-cpus',
        '0',
        '--oom-kill-disable',
      ],
      'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpuset/cpuset.cpus; grep oom_kill_disable memory/memory.oom_control',
    );
    assert.deepEqual(out.trim().split('\n'), ['104857600', '209715200', '52428800', '512', '50000', '25000', '0', 'oom_kill_disable 1']);
  });

  it('--memory 0 is no limit', async () => {
    const out = await sh(['-m', '0'], 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes');
    assert.ok(Number(out.trim()) > 2 ** 40, out);
  });

  it('--device makes the node and allows it in the device cgroup with its permissions; --device-cgroup-rule adds a rule', async () => {
    const out = await sh(
      ['--device', '/dev/kmsg:/dev/mykmsg:r', '--device-cgroup-rule', 'c 13:* rwm'],
      'ls -l /dev/mykmsg | cut -c1; grep -E "^c (1:11|13:\\*) " /sys/fs/cgroup/devices/devices.list',
    );
    assert.deepEqual(out.trim().split('\n'), ['c', 'c 1:11 r', 'c 13:* rwm']);
  });

  it("--pid host sees the host's processes; --uts host its hostname", async () => {
    const out = await sh(['--pid', 'host', '--uts', 'host'], `test -d /proc/${process.pid} && echo host-pids; hostname`);
    const { hostname } = await import('node:os');
    assert.deepEqual(out.trim().split('\n'), ['host-pids', hostname()]);
    const named = await env.berth(['run', '--rm', '--uts', 'host', '--hostname', 'x', 'busybox', 'true']);
    assert.equal(named.code, 125);
    assert.match(named.stderr, /^Error: .*cannot set hostname when running in the host UTS namespace/m);
    assert.equal((await sh([], `test -d /proc/${process.pid} && echo host-pids || echo own`)).trim(), 'own');
  });

  it("--ipc host and --cgroupns host share the host's namespaces; --personality LINUX32 reports i686", async () => {
    const { readlinkSync } = await import('node:fs');
    const out = await sh(
      ['--ipc', 'host', '--cgroupns', 'host', '--personality', 'LINUX32'],
      'readlink /proc/self/ns/ipc; grep -c ":/berth/berth-" /proc/self/cgroup | grep -qv "^0$" && echo host-cgroupns; uname -m',
    );
    assert.deepEqual(out.trim().split('\n'), [readlinkSync('/proc/self/ns/ipc'), 'host-cgroupns', 'i686']);
    const own = await sh([], 'readlink /proc/self/ns/ipc; grep -c ":/berth/berth-" /proc/self/cgroup || true');
    assert.notEqual(own.split('\n')[0], readlinkSync('/proc/self/ns/ipc'));
    assert.equal(own.split('\n')[1], '0');
  });

  it("--http-proxy passes the host's proxy variables unless false; --image-volume tmpfs and ignore", async () => {
    const withProxy = { env: { ...process.env, http_proxy: 'http://proxy.invalid:3128' } };
    assert.equal(
      (await env.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo ${http_proxy-none}'], withProxy)).stdout,
      'http://proxy.invalid:3128\n',
    );
    assert.equal(
      (await env.ok(['run', '--rm', '--network', 'none', '--http-proxy=false', 'busybox', 'sh', '-c', 'echo ${http_proxy-none}'], withProxy)).stdout,
      'none\n',
    );
    await env.ok(['run', '--name', 'volbase', '--network', 'none', 'busybox', 'true']);
    const base = 'volbase';
    await env.ok(['commit', '-q', '--change', 'VOLUME /vol', base, 'withvol']);
    await env.ok(['rm', base]);
    const inWithvol = async (mode: string) =>
      (await env.ok(['run', '--rm', '--network', 'none', '--image-volume', mode, 'withvol', 'sh', '-c', 'grep " /vol " /proc/self/mountinfo || echo none']))
        .stdout;
    assert.match(await inWithvol('tmpfs'), / - tmpfs /);
    assert.equal(await inWithvol('ignore'), 'none\n');
    assert.doesNotMatch(await inWithvol('bind'), / - tmpfs |^none$/m);
    await env.ok(['rmi', 'withvol']);
  });

  it('--device-read-bps and --device-write-iops throttle a block device in the blkio cgroup', async () => {
    const { statSync, readdirSync } = await import('node:fs');
    const disk = readdirSync('/dev')
      .map((d) => `/dev/${d}`)
      .find((p) => statSync(p).isBlockDevice() && /^\/dev\/(vd|sd|nvme|xvd)[a-z0-9]+$/.test(p));
    if (!disk) return;
    const rdev = statSync(disk).rdev;
    const numbers = `${(rdev >> 8) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
    const out = await sh(
      ['--device-read-bps', `${disk}:1mb`, '--device-write-iops', `${disk}:100`],
      'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device',
    );
    assert.deepEqual(out.trim().split('\n'), [`${numbers} 1048576`, `${numbers} 100`]);
    const notBlock = await env.berth(['run', '--rm', '--device-read-bps', '/dev/null:1mb', 'busybox', 'true']);
    assert.equal(notBlock.code, 125);
    assert.equal(notBlock.stderr.trim(), 'Error: invalid --device-read-bps "/dev/null:1mb": /dev/null is not a block device');
  });

  it('--cidfile holds the ID, and a second container may not reuse it', async () => {
    const cidfile = join(env.dir, 'cid');
    const id = (await env.ok(['create', '--cidfile', cidfile, '--name', 'cid1', 'busybox', 'true'])).stdout.trim();
    assert.equal(readFileSync(cidfile, 'utf8'), id);
    assert.equal((await inspect(env, 'cid1'))['HostConfig'].ContainerIDFile, cidfile);
    const again = await env.berth(['create', '--cidfile', cidfile, 'busybox', 'true']);
    assert.equal(again.code, 125);
    assert.equal(again.stderr.trim(), `Error: container id file exists. Ensure another container is not using it or delete ${cidfile}`);
    await env.ok(['rm', 'cid1']);
  });

  it('--pidfile and --conmon-pidfile get the PIDs inspect gives, at each start', async () => {
    const pidfile = join(env.dir, 'ctr.pid');
    const conmonfile = join(env.dir, 'conmon.pid');
    await env.ok(['run', '-d', '--name', 'pids', '--network', 'none', '--pidfile', pidfile, '--conmon-pidfile', conmonfile, 'busybox', 'sleep', '100']);
    const check = async () => {
      const state = (await inspect(env, 'pids'))['State'] as { Pid: number; ConmonPid: number };
      assert.equal(readFileSync(pidfile, 'utf8'), String(state.Pid));
      assert.equal(readFileSync(conmonfile, 'utf8'), String(state.ConmonPid));
      assert.match(readlinkSync(`/proc/${state.ConmonPid}/exe`), /\/conmon$/);
    };
    await check();
    const c = await inspect(env, 'pids');
    assert.equal(c['PidFile'], pidfile);
    assert.equal(c['ConmonPidFile'], conmonfile);
    await env.ok(['restart', '-t', '0', 'pids']);
    await check();
    // The container created last, as podman's inspect -l finds it.
    assert.equal((await env.ok(['inspect', '-l', '--format', '{{.Name}}'])).stdout, 'pids\n');
    assert.equal((await env.ok(['container', 'inspect', '--latest', '--format', '{{.Name}}'])).stdout, 'pids\n');
    await env.ok(['rm', '-f', '-t', '0', 'pids']);
  });

  it("--pid, --ipc, --uts and --cgroupns container:NAME join that container's namespaces; it is not removed while they depend on it", async () => {
    for (const [flag, ns] of [
      ['--pid', 'pid'],
      ['--ipc', 'ipc'],
      ['--uts', 'uts'],
      ['--cgroupns', 'cgroup'],
    ] as const) {
      await env.ok(['run', '-d', '--name', `owner-${ns}`, '--network', 'none', 'busybox', 'sleep', '100']);
      const own = (await env.ok(['exec', `owner-${ns}`, 'readlink', `/proc/self/ns/${ns}`])).stdout;
      assert.equal(await sh([flag, `container:owner-${ns}`], `readlink /proc/self/ns/${ns}`), own, flag);
      assert.notEqual(own, `${readlinkSync(`/proc/self/ns/${ns}`)}\n`, `${flag}: the owner's own, not the host's`);
    }
    const ownerId = (await env.ok(['inspect', '--format', '{{.Id}}', 'owner-ipc'])).stdout.trim();
    await env.ok(['create', '--name', 'joiner', '--ipc', 'container:owner-ipc', '--network', 'none', 'busybox', 'true']);
    assert.equal((await inspect(env, 'joiner'))['HostConfig'].IpcMode, `container:${ownerId}`);
    const refused = await env.berth(['rm', '-f', 'owner-ipc']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /has dependent containers which must be removed before it/);
    const missing = await env.berth(['create', '--pid', 'container:nosuch', 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /no container with name or ID "nosuch" found/);
    await env.ok(['rm', 'joiner']);
    for (const ns of ['pid', 'ipc', 'uts', 'cgroup']) await env.ok(['rm', '-f', '-t', '0', `owner-${ns}`]);
  });

  it("--mount type=image: the image's root, read-only unless rw=true; inspect names it; rmi refuses it while mounted; nothing stays mounted", async () => {
    await env.ok(['tag', 'busybox', 'mounted/img:1']);
    const id = (
      await env.ok(['run', '-d', '--network', 'none', '--mount', 'type=image,src=mounted/img:1,dst=/image-mount,rw=true', 'busybox', 'sleep', '100'])
    ).stdout.trim();
    const [m] = (await inspect(env, id))['Mounts'] as { Type: string; Source: string; Destination: string; RW: boolean }[];
    assert.deepEqual([m!.Type, m!.Source, m!.Destination, m!.RW], ['image', 'mounted/img:1', '/image-mount', true]);
    assert.equal(
      (await env.ok(['exec', id, 'sh', '-c', 'test -x /image-mount/bin/busybox && touch /image-mount/new && ls /image-mount/new'])).stdout,
      '/image-mount/new\n',
    );
    const imageId = (await env.ok(['image', 'inspect', '--format', '{{.Id}}', 'mounted/img:1'])).stdout.trim();
    await env.ok(['untag', 'busybox', 'mounted/img:1']);
    const refused = await env.berth(['rmi', imageId]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /image is in use by a container/);
    await env.ok(['rm', '-f', '-t', '0', id]);
    const ro = await env.berth(['run', '--rm', '--network', 'none', '--mount', 'type=image,source=busybox,destination=/ro', 'busybox', 'touch', '/ro/x']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(env.root) && l.includes('image-mounts'));
    assert.deepEqual(mounted, []);
    const missing = await env.berth(['create', '--mount', 'type=image,src=nosuch,dst=/x', 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /nosuch: image not known/);
  });

  it('--timeout: the monitor kills the container after it, the run exits 255 and the exit code is -1, as podman', async () => {
    const r = await env.berth(['run', '--name', 'limited', '--timeout', '1', '--network', 'none', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 255, r.stderr);
    const state = (await inspect(env, 'limited'))['State'] as { Status: string; ExitCode: number };
    assert.deepEqual([state.Status, state.ExitCode], ['exited', -1]);
    await env.ok(['rm', 'limited']);
    const bad = await env.berth(['run', '--rm', '--timeout', '-1', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid argument "-1" for "--timeout" flag/);
  });

  it("--volumes-from mounts the other container's volumes, ro when asked", async () => {
    await env.ok(['run', '--name', 'vsrc', '--network', 'none', '-v', 'flagvol:/data', 'busybox', 'sh', '-c', 'echo hi > /data/f']);
    assert.equal(await sh(['--volumes-from', 'vsrc'], 'cat /data/f'), 'hi\n');
    const ro = await env.berth(['run', '--rm', '--network', 'none', '--volumes-from', 'vsrc:ro', 'busybox', 'sh', '-c', 'touch /data/g']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    await env.ok(['rm', '-v', 'vsrc']);
    await env.ok(['volume', 'rm', 'flagvol']);
  });

  it('--rmi removes the name that was run once the container has exited', async () => {
    await env.ok(['tag', 'busybox', 'rmi-me']);
    const r = await env.berth(['run', '--rm', '--rmi', '--network', 'none', 'rmi-me', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal((await env.berth(['image', 'exists', 'rmi-me'])).code, 1);
    assert.equal((await env.berth(['image', 'exists', 'busybox'])).code, 0);
  });

  it("--read-only-tmpfs=false leaves /tmp read-only; --no-hosts leaves the image's /etc/hosts", async () => {
    const r = await env.berth(['run', '--rm', '--network', 'none', '--read-only', '--read-only-tmpfs=false', 'busybox', 'touch', '/tmp/x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Read-only file system/);
    await sh(['--read-only'], 'touch /tmp/x');
    // A bare boolean never takes the next word (the image) as its value, as in podman.
    await env.ok(['run', '--rm', '--network', 'none', '--read-only', '--read-only-tmpfs', 'busybox', 'touch', '/tmp/x']);
    assert.equal(await sh(['--no-hosts'], 'test -e /etc/hosts && echo there || echo none'), 'none\n');
  });

  it('--env-host, --env-merge, --unsetenv-all and --label-file', async () => {
    const out = (
      await env.ok(
        ['run', '--rm', '--network', 'none', '--env-host', '--env-merge', 'PATH=${PATH}:/extra', 'busybox', 'sh', '-c', 'echo $FLAGS_TEST_VAR; echo $PATH'],
        { env: { ...process.env, FLAGS_TEST_VAR: 'from-host' } },
      )
    ).stdout;
    const [fromHost, path] = out.trim().split('\n');
    assert.equal(fromHost, 'from-host');
    assert.match(path!, /:\/extra$/);
    assert.equal(
      (await env.ok(['run', '--rm', '--network', 'none', '--unsetenv-all', '-e', 'ONLY=1', 'busybox', '/bin/busybox', 'env'])).stdout
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('HOSTNAME='))
        .sort()
        .join(' '),
      'HOME=/root ONLY=1',
    );
    const labels = join(env.dir, 'labels');
    writeFileSync(labels, '# comment\na=1\nb=2\n');
    await env.ok(['create', '--name', 'lbl', '--label-file', labels, '-l', 'b=3', 'busybox', 'true']);
    assert.deepEqual((await inspect(env, 'lbl'))['Config'].Labels, { a: '1', b: '3' });
    await env.ok(['rm', 'lbl']);
  });

  it('inspect shows the settings where podman does', async () => {
    await env.ok([
      'create',
      '--name',
      'insp',
      '-m',
      '100m',
      '--cpu-shares',
      '512',
      '--umask',
      '077',
      '--tz',
      'UTC',
      '--group-add',
      '10',
      '--pid',
      'host',
      '--shm-size',
      '32m',
      '--oom-score-adj',
      '100',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--device',
      '/dev/null:/dev/mynull:rw',
      'busybox',
      'true',
    ]);
    const i = await inspect(env, 'insp');
    assert.equal(i['Config'].Umask, '0077');
    assert.equal(i['Config'].Timezone, 'UTC');
    const h = i['HostConfig'];
    assert.deepEqual(
      {
        CpuShares: h.CpuShares,
        MemorySwap: h.MemorySwap,
        ShmSize: h.ShmSize,
        GroupAdd: h.GroupAdd,
        PidMode: h.PidMode,
        OomScoreAdj: h.OomScoreAdj,
        Sysctls: h.Sysctls,
        Devices: h.Devices,
      },
      {
        CpuShares: 512,
        MemorySwap: 209715200,
        ShmSize: 33554432,
        GroupAdd: ['10'],
        PidMode: 'host',
        OomScoreAdj: 100,
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }],
      },
    );
    await env.ok(['rm', 'insp']);
  });

  it('a flag berth cannot honour here fails with one Error line naming it, and nothing is created', async () => {
    const refused: [string[], RegExp][] = [
      [['--pod', 'p'], /^Error: no pod with name or ID p found: no such pod$/],
      [['--userns', 'keep-id'], /^Error: keep-id is only supported in rootless mode/],
      [['--uidmap', '0:100000'], /^Error: invalid --uidmap "0:100000": expected CONTAINER_ID:HOST_ID:SIZE/],
      [['--log-driver', 'journald'], /^Error: --log-driver journald is not supported/],
      [['--cgroup-conf', 'memory.high=1'], /^Error: --cgroup-conf is not supported: .*cgroup v1/],
      [['--cpu-rt-runtime', '100'], /^Error: --cpu-rt-runtime is not supported/],
      [['--systemd', 'always'], /^Error: --systemd always is not supported/],
      [['--preserve-fds', '1'], /^Error: --preserve-fds is not supported/],
      [['--sysctl', 'kernel.panic=1'], /^Error: sysctl "kernel.panic" is not allowed/],
      [['--tz', 'No/Such_Zone'], /^Error: finding timezone: unknown time zone No\/Such_Zone/],
      [['--device', '/dev/no-such-device'], /^Error: stat \/dev\/no-such-device: no such file or directory/],
    ];
    for (const [flags, message] of refused) {
      const r = await env.berth(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, flags.join(' '));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
    }
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
  });
});
