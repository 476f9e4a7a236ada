import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand, podmanArgs, run, type RunResult } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/** podman 4.3 on a throwaway vfs store inside the test's directory, to compare words and exit codes. */
function podman(env: ContainerEnv, args: string[]): Promise<RunResult> {
  return run('podman', [...podmanArgs(env.dir, 'vfs'), ...args]);
}

/** The one `Error:` line of a refusal, with podman's engine exit code. */
function assertRefused(r: RunResult, message: RegExp, code = 125): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error: [^\n]*\n$/);
  assert.match(r.stderr, message);
}

describe('podman parity', { timeout: 240_000 }, () => {
  let env: ContainerEnv;
  before(
    async () => {
      env = await containerEnv();
      // podman's first command on a new store picks its network backend, listing the host's CNI
      // networks on the way: with Debian's 87-podman-bridge.conflist and no CNI plugins that prints
      // a warning into the first compared stderr. Pick it here.
      if (hasCommand('podman')) await podman(env, ['images', '-q']);
    },
    { timeout: 60_000 },
  );
  after(() => env?.cleanup());

  describe('global options', () => {
    it('accepts what berth honours and refuses the rest in one line', async () => {
      assert.match(
        (
          await env.ok([
            '--storage-driver',
            'overlay',
            '--storage-opt=',
            '--cgroup-manager',
            'cgroupfs',
            '--events-backend',
            'file',
            '--tmpdir',
            join(env.dir, 't'),
            '--log-level',
            'warning',
            'images',
            '-q',
          ])
        ).stdout,
        /^[0-9a-f]{12}\n$/,
      );
      assertRefused(await env.berth(['--storage-driver', 'vfs', 'images']), /storage driver "vfs" is not supported: berth stores layers with overlay only/);
      assertRefused(await env.berth(['--storage-opt', 'overlay.mountopt=nodev', 'images']), /storage option .* is not supported/);
      assertRefused(await env.berth(['--cgroup-manager', 'systemd', 'images']), /cgroup manager "systemd" is not supported/);
      assertRefused(await env.berth(['--events-backend', 'journald', 'images']), /events backend "journald" is not supported/);
      assertRefused(await env.berth(['--runtime', 'no-such-runtime', 'images']), /default OCI runtime "no-such-runtime" not found/);
      for (const remote of [['--remote'], ['-r'], ['--url', 'unix:///run/podman/podman.sock']]) {
        assertRefused(await env.berth([...remote, 'images']), /no remote service/);
      }
    });

    it('--version and -v print "berth version X", as podman prints "podman version X"', async () => {
      for (const flag of ['--version', '-v']) assert.match((await env.ok([flag])).stdout, /^berth version \d+\.\d+\.\d+\n$/);
      if (hasCommand('podman')) assert.match((await podman(env, ['-v'])).stdout, /^podman version \d+\.\d+\.\d+\n$/);
    });

    it("--log-level logs in logrus's format at and above the level; -D is debug; a bad level exits 1", async () => {
      const debug = await env.ok(['--log-level=debug', 'version']);
      assert.match(debug.stderr, / level=debug /);
      assert.match(debug.stderr, / level=info /);
      assert.doesNotMatch(debug.stderr, / level=trace /);
      assert.match((await env.ok(['--log-level=trace', 'version'])).stderr, / level=trace /);
      assert.match((await env.ok(['-D', 'version'])).stderr, / level=debug /);
      for (const quiet of ['warn', 'warning', 'error']) assert.doesNotMatch((await env.ok([`--log-level=${quiet}`, 'version'])).stderr, / level=/);
      // podman's bare line and exit code 1: it checks the level before its error reporting is up.
      const bad = await env.berth(['--log-level=telepathic', 'version']);
      assert.deepEqual([bad.code, bad.stdout], [1, '']);
      assert.match(bad.stderr, /^Log Level "telepathic" is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic\n$/);
      const both = await env.berth(['--debug', '--log-level=panic', 'version']);
      assert.deepEqual([both.code, both.stderr], [1, 'Setting --log-level and --debug is not allowed\n']);
      if (hasCommand('podman')) {
        const p = await podman(env, ['--log-level=telepathic', 'version']);
        assert.deepEqual([bad.code, bad.stderr], [p.code, p.stderr]);
      }
    });

    it('--noout silences stdout and --out sends it to a file', async () => {
      assert.equal((await env.ok(['--noout', 'create', '--name', 'quiet', ...NONE, 'busybox', 'true'])).stdout, '');
      assert.equal((await env.ok(['--noout', 'rm', 'quiet'])).stdout, '');
      const out = join(env.dir, 'version.json');
      assert.equal((await env.ok(['--out', out, 'version', '-f', 'json'])).stdout, '');
      assert.match((JSON.parse(readFileSync(out, 'utf8')) as { Client: { Version: string } }).Client.Version, /^\d+\.\d+\.\d+$/);
    });

    it('--runtime is the default runtime of new containers and --runtime-flag reaches the runtime', async () => {
      await env.ok(['--runtime', 'runc', 'create', '--name', 'with-runc', ...NONE, 'busybox', 'true']);
      assert.equal((await env.ok(['inspect', '--format', '{{.OCIRuntime}}', 'with-runc'])).stdout, 'runc\n');
      await env.ok(['rm', 'with-runc']);
      const bad = await env.berth(['--runtime-flag', 'invalidflag', 'run', '--rm', ...NONE, 'busybox', 'true']);
      assert.equal(bad.code, 126, bad.stderr);
      assert.match(bad.stderr, /invalidflag/);
      assert.equal((await env.ok(['--runtime-flag', 'debug', 'run', '--rm', ...NONE, 'busybox', 'echo', 'hi'])).stdout, 'hi\n');
    });
  });

  describe('--flag=true|false', () => {
    it("takes pflag's explicit booleans, and leaves the container command alone", async () => {
      await env
        .ok(['run', '--rm=false', '-i=false', '--tty=false', '--name', 'kept', ...NONE, 'busybox', 'echo', '--rm=false'])
        .then((r) => assert.equal(r.stdout, '--rm=false\n'));
      assert.equal((await env.ok(['ps', '-a', '--noheading=true', '--format', '{{.Names}}', '--filter', 'name=kept'])).stdout, 'kept\n');
      await env.ok(['rm', 'kept']);
      await env.ok(['run', '--rm=true', '--name', 'gone', ...NONE, 'busybox', 'true']);
      assert.equal((await env.berth(['container', 'exists', 'gone'])).code, 1);
      assert.match((await env.ok(['images', '--noheading=false'])).stdout, /^REPOSITORY\s+TAG/);
      assert.doesNotMatch((await env.ok(['images', '--noheading=true'])).stdout, /REPOSITORY/);
      assert.match((await env.ok(['history', '--human=false', 'busybox'])).stdout.split('\n')[1]!, /^[0-9a-f]{12} +\d{4}-\d\d-\d\dT[0-9:]+Z /);
    });
  });

  describe('Go template fields', () => {
    it('inspect answers .ID as well as .Id, for images and containers, without adding it to the JSON', async () => {
      await env.ok(['create', '--name', 'idc', ...NONE, 'busybox', 'true']);
      const [image, container] = (await env.ok(['inspect', '--format', '{{.ID}} {{.Id}}', 'busybox', 'idc'])).stdout.trim().split('\n');
      for (const line of [image!, container!]) {
        const [a, b] = line.split(' ');
        assert.match(a!, /^[0-9a-f]{64}$/);
        assert.equal(a, b);
      }
      assert.equal((await env.ok(['image', 'inspect', '--format', '{{.ID}}', 'busybox'])).stdout, `${image!.split(' ')[0]}\n`);
      assert.equal((await env.ok(['container', 'inspect', '--format', '{{.ID}}', 'idc'])).stdout, `${container!.split(' ')[0]}\n`);
      assert.ok(!('ID' in (JSON.parse((await env.ok(['inspect', 'busybox'])).stdout) as object[])[0]!));
      await env.ok(['rm', 'idc']);
    });

    it("images takes podman's fields, and .History keeps the names an image lost", async () => {
      await env.ok(['tag', 'busybox', 'parity-a']);
      const fields =
        '{{.ID}}|{{.Repository}}|{{.Tag}}|{{.Names}}|{{.Dangling}}|{{.ReadOnly}}|{{.IsReadOnly}}|{{.SharedSize}}|{{.Containers}}|{{.Labels}}|{{.CreatedAt}}|{{.Created}}';
      const row = (await env.ok(['images', '--format', fields, 'localhost/parity-a'])).stdout.split('\n').find((l) => l.includes('|localhost/parity-a|'))!;
      assert.match(
        row,
        /^[0-9a-f]{12}\|localhost\/parity-a\|latest\|\[localhost\/busybox:latest localhost\/parity-a:latest\]\|false\|false\|false\|0\|0\|map\[\]\|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\|.* ago$/,
      );
      assert.match((await env.ok(['images', '--format', '{{.VirtualSize}} {{.Digest}}', 'busybox'])).stdout, /^\d+ sha256:[0-9a-f]{64}\n/);
      await env.ok(['tag', 'busybox', 'parity-b']);
      await env.ok(['rmi', 'parity-b']);
      await env.ok(['rmi', 'parity-a']);
      // As containers/storage keeps it: current names, the last added first, then those removed.
      assert.equal(
        (await env.ok(['images', '--format', '{{.History}}', 'busybox'])).stdout,
        'localhost/busybox:latest, localhost/parity-a:latest, localhost/parity-b:latest\n',
      );
      const json = JSON.parse((await env.ok(['images', '--format', 'json'])).stdout) as { History: string[] }[];
      assert.deepEqual(json[0]!.History, ['localhost/busybox:latest', 'localhost/parity-a:latest', 'localhost/parity-b:latest']);
    });

    it('images --sort repository sorts the rows of every name; filters after= and a malformed one as podman', async () => {
      await env.ok(['tag', 'busybox', 'a.b/c:d']);
      await env.ok(['tag', 'busybox', 'zzz.example/x:y']);
      const rows = (await env.ok(['images', '--sort', 'repository', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
      assert.equal(rows, 'a.b/c:d\nlocalhost/busybox:latest\nzzz.example/x:y\n');
      await env.ok(['rmi', 'a.b/c:d', 'zzz.example/x:y']);
      assert.equal((await env.ok(['images', '--noheading', '--filter', 'after=busybox'])).stdout, '');
      const bad = await env.berth(['image', 'list', '-f', 'json']);
      assert.equal(bad.code, 125);
      assert.equal(bad.stderr, 'Error: invalid image filter "json": must be in the format "filter=value or filter!=value"\n');
    });

    it('history --format json has whole IDs and byte sizes', async () => {
      const json = JSON.parse((await env.ok(['history', '--format', 'json', 'busybox'])).stdout) as { id: string; size: number; created: string }[];
      assert.match(json[0]!.id, /^[0-9a-f]{64}$/);
      for (const h of json) {
        assert.match(h.id, /^([0-9a-f]{64}|<missing>)$/);
        assert.equal(typeof h.size, 'number');
        assert.match(h.created, /^\d{4}-\d\d-\d\dT[0-9:.]+Z$/);
      }
    });

    it('ps takes podman\'s fields, .Label "key" among them', async () => {
      await env.ok(['create', '--name', 'fields', '--label', 'mylabel=v1', ...NONE, 'busybox', 'true']);
      const fields =
        '{{.Names}}|{{.Label "mylabel"}}|{{.Mounts}}|{{.IsInfra}}|{{.Pod}}|{{.PodName}}|{{.Pid}}|{{.ExitCode}}|{{.Exited}}|{{.StartedAt}}|{{.State}}|{{.Created}}';
      const out = (await env.ok(['ps', '-a', '--filter', 'name=fields', '--format', fields])).stdout;
      assert.equal((await env.ok(['ps', '-q', '--filter', 'name=fields'])).stdout, '', 'a name filter keeps to running containers');
      assert.match((await env.ok(['ps', '-q', '--filter', 'status=created'])).stdout, /^[0-9a-f]{12}\n$/, 'a status filter reaches past them');
      assert.match(out, /^fields\|v1\|\[\]\|false\|\|\|0\|0\|false\|-62135596800\|created\|\d{4}-\d\d-\d\d [0-9:.]+ \+0000 UTC\n$/);
      await env.ok(['rm', 'fields']);
    });

    it('ps --sort names sorts by name; rm -l removes the container created last', async () => {
      for (const n of ['sort-b', 'sort-a', 'sort-c']) await env.ok(['create', '--name', n, ...NONE, 'busybox', 'true']);
      assert.equal((await env.ok(['ps', '-a', '--filter', 'name=sort-', '--format', '{{.Names}}', '--sort', 'names'])).stdout, 'sort-a\nsort-b\nsort-c\n');
      assert.equal(
        (await env.ok(['ps', '-a', '--filter', 'name=sort-', '--format', '{{.Names}}'])).stdout,
        'sort-b\nsort-a\nsort-c\n',
        'oldest first by default, as podman 4.3',
      );
      assert.equal(
        (await env.ok(['ps', '-a', '--filter', 'name=sort-a', '--filter', 'name=sort-c', '--format', '{{.Names}}'])).stdout,
        'sort-a\nsort-c\n',
        'one key: any value',
      );
      assert.equal(
        (await env.ok(['ps', '-a', '--filter', 'name=sort-a', '--filter', 'status=running', '--format', '{{.Names}}'])).stdout,
        '',
        'two keys: both',
      );
      const bad = await env.berth(['ps', '--sort', 'bogus']);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: invalid option for --sort/);
      const latest = (await env.ok(['inspect', '--format', '{{.ID}}', 'sort-c'])).stdout.trim();
      for (const id of [latest.slice(0, 3).toUpperCase(), `^${latest.slice(0, 3)}`]) {
        assert.match((await env.ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Names}}'])).stdout, /^sort-c$/m, `id=${id}`);
      }
      assert.doesNotMatch((await env.ok(['ps', '-a', '--filter', `id=^[^${latest[0]}]`, '--format', '{{.Names}}'])).stdout, /sort-c/);
      assert.equal((await env.ok(['rm', '-l'])).stdout, `${latest}\n`);
      await env.ok(['rm', 'sort-a', 'sort-b']);
    });

    it("ps --size adds podman's SIZE column and the sizes to .Size and JSON", async () => {
      await env.ok(['run', '--name', 'sized', ...NONE, 'busybox', 'sh', '-c', 'printf 12345 > /five']);
      const table = (await env.ok(['ps', '-a', '-s', '--filter', 'name=sized'])).stdout.split('\n');
      assert.match(table[0]!, /NAMES +SIZE$/);
      assert.match(table[1]!, /sized +5B \(virtual [0-9.]+MB\)$/);
      const json = JSON.parse((await env.ok(['ps', '-a', '-s', '--filter', 'name=sized', '--format', 'json'])).stdout) as {
        Size: { rwSize: number; rootFsSize: number };
      }[];
      assert.equal(json[0]!.Size.rwSize, 5);
      assert.ok(json[0]!.Size.rootFsSize > 1_000_000);
      assert.equal((await env.ok(['ps', '-a', '--filter', 'name=sized', '--format', '{{.Size}}|'])).stdout, '|\n', 'no size without --size');
      await env.ok(['rm', 'sized']);
    });
  });

  describe('image mount, diff --format json', () => {
    it('image mount shows the image read-only, lists it, and image umount ends it', async () => {
      const id = (await env.ok(['image', 'inspect', '--format', '{{.ID}}', 'busybox'])).stdout.trim();
      const path = (await env.ok(['image', 'mount', 'busybox'])).stdout.trim();
      try {
        assert.ok(readFileSync(join(path, 'etc', 'passwd'), 'utf8').startsWith('root:'));
        assert.throws(() => writeFileSync(join(path, 'x'), ''), /EROFS/);
        assert.match((await env.ok(['image', 'mount'])).stdout, new RegExp(`^localhost/busybox:latest +${path}\n$`));
        const json = JSON.parse((await env.ok(['image', 'mount', '--format', 'json'])).stdout) as { id: string; mountpoint: string }[];
        assert.deepEqual(
          json.map((m) => [m.id, m.mountpoint]),
          [[id, path]],
        );
      } finally {
        assert.equal((await env.ok(['image', 'umount', 'busybox'])).stdout, `${id}\n`);
      }
      assert.equal((await env.ok(['image', 'unmount', 'busybox'])).stdout, '', 'not mounted: nothing to say');
      assert.equal((await env.ok(['image', 'mount'])).stdout, '');
      const missing = await env.berth(['image', 'umount', 'no-such-image']);
      assert.equal(missing.code, 125);
      assert.equal(missing.stderr, 'Error: no-such-image: image not known\n');
    });

    it("diff --format json lists changed, added and deleted paths (not the runtime's mount targets), leaving out empty lists; -l is the latest", async () => {
      // As podman's own test has it: the mount targets the runtime makes (/etc/hosts...) are left out.
      await env.ok(['run', '--name', 'differ', ...NONE, 'busybox', 'sh', '-c', 'echo x > /new; rm /etc/group']);
      const json = JSON.parse((await env.ok(['diff', '--format', 'json', '-l'])).stdout) as unknown;
      assert.deepEqual(json, { changed: ['/etc'], added: ['/new'], deleted: ['/etc/group'] });
      assert.equal((await env.ok(['diff', 'differ'])).stdout, 'C /etc\nD /etc/group\nA /new\n');
      await env.ok(['rm', 'differ']);
      await env.ok(['create', '--name', 'pristine', ...NONE, 'busybox', 'true']);
      assert.deepEqual(JSON.parse((await env.ok(['diff', '--format', 'json', 'pristine'])).stdout), {});
      await env.ok(['rm', 'pristine']);
    });
  });

  describe('messages and exit codes', () => {
    it('a missing image: "NAME: image not known"', async () => {
      const cases = [
        ['history', 'nosuch'],
        ['save', '-o', join(env.dir, 'x.tar'), 'nosuch'],
        ['tag', 'nosuch', 'other'],
        ['image', 'inspect', 'nosuch'],
        ['inspect', '--type', 'image', 'nosuch'],
      ];
      for (const args of cases) {
        const r = await env.berth(args);
        assert.equal(r.code, 125, args.join(' '));
        assert.match(r.stderr, /^Error: nosuch: image not known\n$/, args.join(' '));
        if (hasCommand('podman') && args[0] !== 'inspect' && args[0] !== 'image') {
          const p = await podman(env, args);
          assert.deepEqual([r.code, r.stderr], [p.code, p.stderr], `podman ${args.join(' ')}`);
        }
      }
      const any = await env.berth(['inspect', 'nosuch']);
      assert.equal(any.code, 125);
      assert.equal(any.stdout, '[]\n');
      assert.equal(any.stderr, 'Error: no such object: "nosuch"\n');
    });

    it('a missing container: podman\'s "no such container" line', async () => {
      for (const args of [
        ['start', 'nosuch'],
        ['stop', 'nosuch'],
        ['kill', 'nosuch'],
        ['wait', 'nosuch'],
        ['logs', 'nosuch'],
        ['restart', 'nosuch'],
        ['pause', 'nosuch'],
        ['mount', 'nosuch'],
      ]) {
        const r = await env.berth(args);
        assert.equal(r.code, 125, args.join(' '));
        assert.equal(r.stderr, 'Error: no container with name or ID "nosuch" found: no such container\n', args.join(' '));
      }
      const rm = await env.berth(['rm', 'nosuch']);
      assert.equal(rm.code, 1, 'podman rm exits 1 for a missing container');
      assert.equal(rm.stderr, 'Error: no container with name or ID "nosuch" found: no such container\n');
      assert.equal((await env.ok(['rm', '--force', 'nosuch'])).stdout, '');
      if (hasCommand('podman')) {
        const p = await podman(env, ['rm', 'nosuch']);
        assert.deepEqual([rm.code, rm.stderr], [p.code, p.stderr]);
      }
    });

    it("rm of a running container without -f exits 2 with podman's message", async () => {
      const id = (await env.ok(['run', '-d', ...NONE, 'busybox', 'sleep', '300'])).stdout.trim();
      const r = await env.berth(['rm', id]);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr,
        `Error: cannot remove container ${id} as it is running - running or paused containers cannot be removed without force: container state improper\n`,
      );
      await env.ok(['rm', '-f', '-t', '0', id]);
    });

    it("wait --condition takes podman's states, comma-separated too, and words an unknown one as podman does", async () => {
      await env.ok(['create', '--name', 'waiter', ...NONE, 'busybox', 'true']);
      assert.equal((await env.ok(['wait', '--condition', 'running,created', 'waiter'])).stdout, '0\n');
      const bad = await env.berth(['wait', '--condition', 'bogus', 'waiter']);
      assert.equal(bad.code, 125);
      assert.equal(bad.stderr, 'Error: unknown container state: bogus: invalid argument\n');
      await env.ok(['rm', 'waiter']);
      assert.equal((await env.ok(['wait', '--ignore', 'waiter'])).stdout, '-1\n', 'podman: a missing container waited on with --ignore is -1');
    });

    it('volume ls --filter name= is a regular expression; volume rm exits 1 for a missing volume, -f passes over it', async () => {
      for (const v of ['abc', 'abd', 'xab']) await env.ok(['volume', 'create', v]);
      assert.equal((await env.ok(['volume', 'ls', '-q', '--filter', 'name=^ab'])).stdout, 'abc\nabd\n');
      assert.equal((await env.ok(['volume', 'ls', '-q', '--filter', 'name=a.d'])).stdout, 'abd\n');
      const missing = await env.berth(['volume', 'rm', 'nosuch']);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, 'Error: no volume with name "nosuch" found: no such volume\n');
      assert.equal((await env.ok(['volume', 'rm', '-f', 'nosuch', 'abc'])).stdout, 'abc\n');
      await env.ok(['volume', 'rm', 'abd', 'xab']);
    });
  });
});
