import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

// What a container may see and do: namespaces, the capability set, seccomp, masked paths, the
// read-only root, and the cgroup and rlimit limits that podman's flags set.

const NONE = ['--network', 'none'];

/** A tar made in memory from name → content entries. */
async function tarOf(entries: [string, string | Buffer][]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, content] of entries) pack.entry({ name, mtime: new Date(0), mode: 0o644 }, content);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A docker-archive of `count` layers on top of the busybox rootfs tarball, layer i adding /l/fi:
 * enough lowerdirs that their full paths would not fit in one mount call's options.
 */
async function manyLayerArchive(busyboxTar: Buffer, count: number): Promise<Buffer> {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const layers = [busyboxTar];
  for (let i = 0; i < count; i++) layers.push(await tarOf([[`l/f${i}`, `${i}\n`]]));
  const ids = layers.map(sha);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: ids.map((d) => `sha256:${d}`) },
    }),
  );
  const configName = `${sha(config)}.json`;
  const manifest = [{ Config: configName, RepoTags: ['localhost/many:latest'], Layers: ids.map((d) => `${d}.tar`) }];
  return tarOf([['manifest.json', JSON.stringify(manifest)], [configName, config], ...layers.map((l, i): [string, Buffer] => [`${ids[i]}.tar`, l])]);
}
const status = (out: string, field: string) => new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(out)?.[1];

describe('containers: isolation', () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('sees its own pid 1, its own processes only and its own mount table', async () => {
    const r = await env.ok(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', 'echo $$; ps -o pid,comm | tail -n +2 | wc -l; cat /proc/mounts']);
    const [pid, count, ...mounts] = r.stdout.trim().split('\n');
    assert.equal(pid, '1');
    // sh, ps, tail, wc: nothing of the host's hundred-odd processes.
    assert.ok(Number(count) <= 4, r.stdout);
    assert.match(mounts[0]!, /^overlay \/ overlay /);
    // No mount point of the host's (its store, its /work, its /tmp) appears inside.
    const points = mounts.map((m) => m.split(' ')[1]!);
    assert.ok(!points.some((p) => p.startsWith('/tmp/') || p.startsWith('/work') || p.startsWith(env.root)), points.join(' '));
    assert.ok(
      mounts.some((m) => / \/proc proc /.test(m)) && mounts.some((m) => / \/dev\/pts devpts /.test(m)) && mounts.some((m) => / \/dev\/shm tmpfs /.test(m)),
    );
  });

  it('cannot change the image layers another container sees', async () => {
    await env.ok(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', 'echo hacked > /etc/passwd; rm /bin/ls; chmod 000 /etc/group']);
    const r = await env.ok([
      'run',
      '--rm',
      ...NONE,
      'busybox',
      'sh',
      '-c',
      'grep -c root /etc/passwd; grep -c hacked /etc/passwd; test -e /bin/ls && echo ls-there; stat -c %a /etc/group',
    ]);
    assert.equal(r.stdout, '1\n0\nls-there\n644\n');
    for (const layer of readdirSync(join(env.root, 'layers')).filter((l) => !l.startsWith('.'))) {
      const passwd = join(env.root, 'layers', layer, 'diff', 'etc', 'passwd');
      try {
        assert.doesNotMatch(readFileSync(passwd, 'utf8'), /hacked/);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  });

  it("has podman's default capabilities, seccomp filter and masked paths", async () => {
    const r = await env.ok([
      'run',
      '--rm',
      ...NONE,
      'busybox',
      'sh',
      '-c',
      'cat /proc/self/status; echo ---; cat /proc/kcore | wc -c; (echo x > /proc/sys/kernel/hostname) 2>&1; echo write=$?',
    ]);
    const [st, rest] = r.stdout.split('---\n') as [string, string];
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
    assert.equal(status(st, 'CapEff'), '00000000800405fb');
    assert.equal(status(st, 'CapBnd'), '00000000800405fb');
    assert.equal(status(st, 'Seccomp'), '2');
    assert.equal(status(st, 'NoNewPrivs'), '0');
    assert.match(rest, /^0\n/, 'kcore is masked');
    assert.match(rest, /Read-only file system/);
  });

  it('--cap-drop, --cap-add, --privileged, no-new-privileges and seccomp=unconfined', async () => {
    const drop = await env.berth(['run', '--rm', ...NONE, '--cap-drop', 'chown', 'busybox', 'sh', '-c', 'touch /f; chown 1:1 /f']);
    assert.notEqual(drop.code, 0);
    assert.match(drop.stderr + drop.stdout, /Operation not permitted/);
    const add = await env.ok(['run', '--rm', ...NONE, '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(status(add.stdout, 'CapEff'), '0000000000001000');
    const priv = await env.ok(['run', '--rm', ...NONE, '--privileged', 'busybox', 'sh', '-c', 'cat /proc/self/status; ls /dev/null /dev/kmsg']);
    assert.equal(status(priv.stdout, 'Seccomp'), '0');
    // Every capability berth itself may have (this VM withholds CAP_SYS_RESOURCE from root).
    assert.equal(status(priv.stdout, 'CapEff'), status(readFileSync('/proc/self/status', 'utf8'), 'CapBnd'));
    assert.match(priv.stdout, /\/dev\/kmsg/);
    const nnp = await env.ok([
      'run',
      '--rm',
      ...NONE,
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      'seccomp=unconfined',
      'busybox',
      'cat',
      '/proc/self/status',
    ]);
    assert.equal(status(nnp.stdout, 'NoNewPrivs'), '1');
    assert.equal(status(nnp.stdout, 'Seccomp'), '0');
  });

  it('a seccomp profile from a file blocks the syscalls it names', async () => {
    const profile = join(env.dir, 'no-mkdir.json');
    writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        archMap: [
          { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
          { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
        ],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      }),
    );
    const blocked = await env.berth(['run', '--rm', ...NONE, '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/newdir']);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /Operation not permitted/);
    await env.ok(['run', '--rm', ...NONE, 'busybox', 'mkdir', '/newdir']);
    const bad = await env.berth(['run', '--rm', ...NONE, '--security-opt', `seccomp=${join(env.dir, 'missing.json')}`, 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /reading seccomp profile .*missing\.json/);
  });

  it("crun's compiled filter is kept per profile and given to the next create of that profile only", async () => {
    const profileFile = (errnoRet: number) => {
      const file = join(env.dir, `no-mkdir-${errnoRet}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ALLOW',
          archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
          // Not the profile of the test above, so that no create has compiled it yet.
          syscalls: [{ names: ['mkdir', 'mkdirat', 'rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet }],
        }),
      );
      return file;
    };
    const eperm = profileFile(1);
    const eacces = profileFile(13);
    const configOf = async (name: string) => {
      const path = (await env.ok(['inspect', '--format', '{{.OCIConfigPath}}', name])).stdout.trim();
      return JSON.parse(readFileSync(path, 'utf8')) as { annotations?: Record<string, string> };
    };
    const kept = join(env.runRoot, 'runtime', 'seccomp-bpf');
    const keptFiles = () => {
      try {
        return readdirSync(kept).filter((f) => f.endsWith('.bpf'));
      } catch {
        return [];
      }
    };
    const before = keptFiles().length;
    // The first create of a profile compiles it; the second is given crun's program and compiles nothing.
    for (const name of ['perm1', 'perm2']) {
      const r = await env.berth(['run', '--name', name, ...NONE, '--security-opt', `seccomp=${eperm}`, 'busybox', 'mkdir', '/newdir']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Operation not permitted/);
    }
    assert.equal((await configOf('perm1')).annotations?.['run.oci.seccomp_bpf_data'], undefined);
    const given = (await configOf('perm2')).annotations?.['run.oci.seccomp_bpf_data'];
    assert.ok(given, 'the second create was not given the compiled filter');
    assert.equal(keptFiles().length, before + 1);
    // What it was given is what crun compiled for the first, and the kernel enforces it in the second.
    assert.ok(keptFiles().some((f) => readFileSync(join(kept, f)).toString('base64') === given));
    // Another profile is another program: the first one's is not used for it.
    const r = await env.berth(['run', '--rm', ...NONE, '--security-opt', `seccomp=${eacces}`, 'busybox', 'mkdir', '/newdir']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Permission denied/);
    assert.equal(keptFiles().length, before + 2);
    // Unconfined: no filter, nothing given.
    const free = await env.ok(['run', '--name', 'free', ...NONE, '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']);
    assert.equal(status(free.stdout, 'Seccomp'), '0');
    assert.equal((await configOf('free')).annotations?.['run.oci.seccomp_bpf_data'], undefined);
    await env.ok(['rm', 'perm1', 'perm2', 'free']);
  });

  it('--read-only keeps the root read-only and /tmp, /run writable', async () => {
    const r = await env.berth(['run', '--rm', ...NONE, '--read-only', 'busybox', 'sh', '-c', 'touch /tmp/a /run/b && echo tmp-ok; touch /etc/x']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /tmp-ok/);
    assert.match(r.stderr, /Read-only file system/);
  });

  it('a memory limit that is exceeded ends in the OOM kill, seen by inspect', async () => {
    const r = await env.berth([
      'run',
      '--name',
      'oom',
      ...NONE,
      '--memory',
      '16m',
      'busybox',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; dd if=/dev/zero of=/dev/null bs=64M count=1',
    ]);
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stdout, /^16777216\n/);
    const state = JSON.parse((await env.ok(['container', 'inspect', '--format', '{{json .State}}', 'oom'])).stdout) as { OOMKilled: boolean; ExitCode: number };
    assert.equal(state.OOMKilled, true);
    assert.equal(state.ExitCode, 137);
  });

  it('--pids-limit stops forks beyond it; --cpus sets the CFS quota', async () => {
    const r = await env.berth([
      'run',
      '--rm',
      ...NONE,
      '--pids-limit',
      '8',
      '--cpus',
      '0.5',
      'busybox',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 3 & done; wait',
    ]);
    assert.match(r.stdout, /^8\n50000\n/);
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  });

  it('--ulimit sets the process limits; without it, open files get the host hard limit', async () => {
    const set = await env.ok([
      'run',
      '--rm',
      ...NONE,
      '--ulimit',
      'nofile=512:1024',
      '--ulimit',
      'nproc=77',
      'busybox',
      'sh',
      '-c',
      'ulimit -n; ulimit -Hn; ulimit -u',
    ]);
    assert.equal(set.stdout, '512\n1024\n77\n');
    const hard = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
    const dflt = await env.ok(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', 'ulimit -Hn']);
    assert.equal(dflt.stdout.trim(), String(Math.min(Number(hard), 1_048_576)));
    const bad = await env.berth(['run', '--rm', ...NONE, '--ulimit', 'nofile=9:8', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /soft limit 9 is above hard limit 8/);
  });

  it('runs an image of 200 layers (more lowerdirs than one mount call could name by full path)', async () => {
    const { busyboxRootfs } = await import('../testing/cli.js');
    const bb = join(env.dir, 'bb-rootfs.tar');
    await busyboxRootfs(bb);
    const archive = join(env.dir, 'many.tar');
    writeFileSync(archive, await manyLayerArchive(readFileSync(bb), 200));
    await env.ok(['load', '-q', '-i', archive]);
    const r = await env.ok(['run', '--rm', ...NONE, 'many', 'sh', '-c', 'ls /l | wc -l; cat /l/f0 /l/f199']);
    assert.equal(r.stdout, '200\n0\n199\n');
  });

  it('--init runs an init as pid 1 that reaps and forwards; --env-file sets variables', async () => {
    const envFile = join(env.dir, 'vars.env');
    writeFileSync(envFile, '# settings\nGREETING=hello world\nEMPTY=\n');
    const r = await env.ok([
      'run',
      '--rm',
      ...NONE,
      '--init',
      '--env-file',
      envFile,
      '-e',
      'EXTRA=1',
      'busybox',
      'sh',
      '-c',
      'cat /proc/1/cmdline | tr "\\0" " "; echo; echo "$GREETING|$EMPTY|$EXTRA"',
    ]);
    const [cmdline, vars] = r.stdout.split('\n');
    assert.match(cmdline!, /^\/run\/berth-init -- sh -c/);
    assert.equal(vars, 'hello world||1');
  });
});
