import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { berthBin, busyboxRootfs, ok, podmanArgs, run } from '../testing/cli.js';
import { buildContext, containerEnv, type ContainerEnv } from '../testing/containers.js';

const TIMEOUT = { timeout: 5 * 60_000 };

/** A host directory under the environment's, with files (parents made) of the given content. */
const hostTree = buildContext;

/** A plain tar of `dir`'s entries `names`, made by GNU tar with the given owner. */
async function tarOf(dir: string, names: string[], owner = '0:0'): Promise<Buffer> {
  const out = join(dir, '..', `${Date.now()}-${Math.random()}.tar`);
  const [u, g] = owner.split(':');
  await ok('tar', ['--numeric-owner', `--owner=${u}`, `--group=${g}`, '-C', dir, '-cf', out, ...names]);
  return readFileSync(out);
}

/** Runs `cmd` with stdin from a buffer: the CLI helper takes input as a Buffer. */
const fail = async (env: ContainerEnv, args: string[], input?: Buffer) => {
  const r = await env.berth(args, input ? { input } : {});
  assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stderr.trim();
};

describe('cp: running containers', TIMEOUT, () => {
  let env: ContainerEnv;
  let src: string;
  before(async () => {
    env = await containerEnv();
    src = hostTree(env, 'src', { hostfile: 'from host\n', 'dir/sub/a': 'a\n', 'dir/sub/b': 'b\n', 'dir./x': 'x\n' });
    // The image's WORKDIR, which the runtime makes (a --workdir must exist already, as in podman).
    await env.ok(['import', '--change', 'WORKDIR /srv', join(env.dir, 'busybox.tar'), 'busybox-srv']);
    await env.ok([
      'run',
      '-d',
      '--name',
      'w',
      '--network',
      'none',
      'busybox-srv',
      'sh',
      '-c',
      'mkdir -p /srv/subdir /tmp/foo /srv/tree/inner; echo c1 > /srv/containerfile; echo t > /srv/tree/inner/t; echo bar > /tmp/bar; touch /tmp/foo/f; exec sleep 600',
    ]);
    await env.ok(['exec', 'w', 'test', '-f', '/srv/containerfile']);
  });
  after(() => env?.cleanup());
  const cat = async (ctr: string, path: string) => (await env.ok(['exec', ctr, 'cat', path])).stdout;

  it('takes relative container paths from the WORKDIR, both ways', TIMEOUT, async () => {
    await env.ok(['cp', join(src, 'hostfile'), 'w:.']);
    assert.equal(await cat('w', '/srv/hostfile'), 'from host\n');
    await env.ok(['cp', join(src, 'hostfile'), 'w:subdir']);
    assert.equal(await cat('w', '/srv/subdir/hostfile'), 'from host\n');
    await env.ok(['cp', join(src, 'hostfile'), 'w:renamed.txt']);
    assert.equal(await cat('w', '/srv/renamed.txt'), 'from host\n');
    const out = hostTree(env, 'out-wd', {});
    await env.ok(['cp', 'w:containerfile', out]);
    assert.equal(readFileSync(join(out, 'containerfile'), 'utf8'), 'c1\n');
    // `cp ctr:file .` lands in the current directory.
    await ok(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'cp', 'w:containerfile', '.'], { cwd: out });
    assert.equal(readFileSync(join(out, 'containerfile'), 'utf8'), 'c1\n');
  });

  it("applies docker's directory rules: DIR/. is the content, a new name, a trailing slash", TIMEOUT, async () => {
    await env.ok(['cp', join(src, 'dir'), 'w:/']);
    assert.equal(await cat('w', '/dir/sub/a'), 'a\n');
    await env.ok(['cp', join(src, 'dir.'), 'w:/']);
    assert.equal(await cat('w', '/dir./x'), 'x\n');
    await env.ok(['cp', `${join(src, 'dir')}/.`, 'w:/usr/']);
    assert.equal(await cat('w', '/usr/sub/b'), 'b\n');
    await env.ok(['cp', `${join(src, 'dir')}/.`, 'w:/newdir3']);
    assert.equal(await cat('w', '/newdir3/sub/b'), 'b\n');
    await env.ok(['cp', `${join(src, 'dir', 'sub')}/.`, 'w:subdir/.']);
    assert.equal(await cat('w', '/srv/subdir/a'), 'a\n');
    const out = hostTree(env, 'out-rules', {});
    await env.ok(['cp', 'w:/srv/tree/.', out]);
    assert.equal(readFileSync(join(out, 'inner', 't'), 'utf8'), 't\n');
    await env.ok(['cp', 'w:/srv/tree', join(out, 'named')]);
    assert.equal(readFileSync(join(out, 'named', 'inner', 't'), 'utf8'), 't\n');
    assert.equal(
      await fail(env, ['cp', join(src, 'hostfile'), 'w:/IdoNotExist/']),
      'Error: "/IdoNotExist/" could not be found on container w: no such file or directory',
    );
    assert.equal(
      await fail(env, ['cp', join(src, 'hostfile'), 'w:/IdoNotExist/file']),
      'Error: "/IdoNotExist/file" could not be found on container w: no such file or directory',
    );
    assert.equal(
      await fail(env, ['cp', join(src, 'IdoNotExist'), 'w:/tmp']),
      `Error: "${join(src, 'IdoNotExist')}" could not be found on the host: no such file or directory`,
    );
    assert.equal(await fail(env, ['cp', 'w:/IdoNotExist', out]), 'Error: "/IdoNotExist" could not be found on container w: no such file or directory');
    assert.equal(await fail(env, ['cp', join(src, 'dir'), 'w:/etc/passwd']), 'Error: destination must be a directory when copying a directory');
    assert.equal(await fail(env, ['cp', 'w:/etc', join(src, 'hostfile')]), 'Error: destination must be a directory when copying a directory');
    assert.equal(
      await fail(env, ['cp', 'w:/etc/passwd', `${join(src, 'nodir')}/`]),
      `Error: "${join(src, 'nodir')}/" could not be found on the host: no such file or directory`,
    );
  });

  it('copies between two containers', TIMEOUT, async () => {
    await env.ok(['run', '-d', '--name', 'peer', '--network', 'none', 'busybox', 'sleep', '600']);
    await env.ok(['cp', 'w:/srv/tree', 'peer:/tmp']);
    assert.equal(await cat('peer', '/tmp/tree/inner/t'), 't\n');
    await env.ok(['cp', 'w:/srv/tree/.', 'peer:/copied']);
    assert.equal(await cat('peer', '/copied/inner/t'), 't\n');
    await env.ok(['cp', 'w:containerfile', 'peer:/newfile']);
    assert.equal(await cat('peer', '/newfile'), 'c1\n');
  });

  it("lands in the running container's tmpfs, volumes and bind mounts, not in the layer beneath", TIMEOUT, async () => {
    const bind = hostTree(env, 'bind', {});
    await env.ok(['volume', 'create', 'cpvol']);
    await env.ok(['run', '-d', '--name', 'm', '--network', 'none', '--tmpfs', '/tt', '-v', 'cpvol:/data', '-v', `${bind}:/data/b`, 'busybox', 'sleep', '600']);
    for (const dest of ['/tt/', '/data/', '/data/b/']) await env.ok(['cp', join(src, 'hostfile'), `m:${dest}`]);
    for (const dest of ['/tt/', '/data/', '/data/b/']) assert.equal(await cat('m', `${dest}hostfile`), 'from host\n');
    assert.equal(readFileSync(join(bind, 'hostfile'), 'utf8'), 'from host\n');
    const mountpoint = (await env.ok(['volume', 'inspect', 'cpvol', '--format', '{{.Mountpoint}}'])).stdout.trim();
    assert.equal(readFileSync(join(mountpoint, 'hostfile'), 'utf8'), 'from host\n');
    const id = (await env.ok(['inspect', '--format', '{{.Id}}', 'm'])).stdout.trim();
    const upper = join(env.root, 'containers', id, 'upper');
    for (const p of ['tt/hostfile', 'data/hostfile', 'data/b/hostfile']) assert.equal(existsSync(join(upper, p)), false, p);
    // And out of them again.
    await env.ok(['exec', 'm', 'sh', '-c', 'echo in-tmpfs > /tt/t; echo in-vol > /data/v']);
    const out = hostTree(env, 'out-mounts', {});
    await env.ok(['cp', 'm:/tt/t', out]);
    await env.ok(['cp', 'm:/data/v', out]);
    assert.equal(readFileSync(join(out, 't'), 'utf8'), 'in-tmpfs\n');
    assert.equal(readFileSync(join(out, 'v'), 'utf8'), 'in-vol\n');
  });

  it('takes a tar on stdin, plain or gzipped, and gives one on stdout', TIMEOUT, async () => {
    const tar = await tarOf(src, ['dir/sub']);
    await env.ok(['cp', '-', 'w:/tmp'], { input: tar });
    assert.equal(await cat('w', '/tmp/dir/sub/a'), 'a\n');
    await env.ok(['cp', '-', 'w:/srv'], { input: gzipSync(tar) });
    assert.equal(await cat('w', '/srv/dir/sub/b'), 'b\n');
    assert.equal(
      await fail(env, ['cp', '-', 'w:/tmp'], Buffer.from('not a tar\n')),
      'Error: source must be a (compressed) tar archive when copying from stdin',
    );
    assert.equal(await fail(env, ['cp', '-', 'w:/tmp/bar'], tar), 'Error: destination must be a directory when copying from stdin');
    assert.equal(await fail(env, ['cp', '-', 'w:/tmp/IdoNotExist'], tar), 'Error: destination must be a directory when copying from stdin');
    const out = hostTree(env, 'out-stdout', {});
    await ok('sh', ['-c', `"$0" --root "$1" --runroot "$2" cp w:/srv/tree - > "$3/t.tar"`, berthBin, env.root, env.runRoot, out]);
    const listing = (await ok('tar', ['-tf', join(out, 't.tar')])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(listing, ['tree/', 'tree/inner/', 'tree/inner/t']);
  });

  it('refuses to put a file over a directory or the reverse unless --overwrite', TIMEOUT, async () => {
    const foo = hostTree(env, 'ow', { foo: 'file\n', 'bar/q': 'q\n' });
    assert.match(await fail(env, ['cp', join(foo, 'foo'), 'w:/tmp']), /^Error: .* error creating "\/tmp\/foo": .*: file exists$/);
    assert.match(await fail(env, ['cp', join(foo, 'bar'), 'w:/tmp']), /^Error: .* error creating "\/tmp\/bar": .*: file exists$/);
    await env.ok(['cp', '--overwrite', join(foo, 'foo'), 'w:/tmp']);
    assert.equal(await cat('w', '/tmp/foo'), 'file\n');
    await env.ok(['cp', '--overwrite', join(foo, 'bar'), 'w:/tmp']);
    assert.equal(await cat('w', '/tmp/bar/q'), 'q\n');
    // The same towards the host.
    mkdirSync(join(foo, 'containerfile'));
    assert.match(await fail(env, ['cp', 'w:containerfile', foo]), /^Error: .* error creating "\/containerfile": .*: file exists$/);
    await env.ok(['cp', '--overwrite', 'w:containerfile', foo]);
    assert.equal(readFileSync(join(foo, 'containerfile'), 'utf8'), 'c1\n');
  });

  it('resolves symlinks inside the container, never on the host', TIMEOUT, async () => {
    const secret = hostTree(env, 'host-secret', { secret: 'host only\n' });
    await env.ok([
      'exec',
      'w',
      'sh',
      '-c',
      `ln -s ${secret} /tmp/hostlink; ln -s ${secret}/secret /tmp/secretlink; mkdir -p /tmp/d1 /tmp/into; ln -s /tmp/nonesuch1 /tmp/d1/x; ln -s ${secret} /tmp/into/sub; ln -s .. /tmp/d1/up`,
    ]);
    const out = hostTree(env, 'out-links', {});
    assert.equal(await fail(env, ['cp', 'w:/tmp/secretlink', out]), 'Error: "/tmp/secretlink" could not be found on container w: no such file or directory');
    assert.equal(
      await fail(env, ['cp', 'w:/tmp/hostlink/secret', out]),
      'Error: "/tmp/hostlink/secret" could not be found on container w: no such file or directory',
    );
    assert.deepEqual(readdirSync(out), []);
    assert.equal(
      await fail(env, ['cp', join(src, 'hostfile'), 'w:/tmp/hostlink/']),
      'Error: "/tmp/hostlink/" could not be found on container w: no such file or directory',
    );
    // A dangling link names the file to make, inside the container (podman's "weird symlink expansion").
    await env.ok(['cp', join(src, 'hostfile'), 'w:/tmp/d1/x']);
    assert.equal(await cat('w', '/tmp/nonesuch1'), 'from host\n');
    // A link on the destination's path is followed from the container's root, where that directory exists too.
    await env.ok(['exec', 'w', 'mkdir', '-p', secret]);
    await env.ok(['cp', join(src, 'hostfile'), 'w:/tmp/hostlink/']);
    assert.equal(await cat('w', `${secret}/hostfile`), 'from host\n');
    assert.deepEqual(readdirSync(secret), ['secret']);
    // A link in the way of a copied directory is not written through (podman refuses; --overwrite replaces it).
    const tree = hostTree(env, 'into', { 'sub/planted': 'planted\n' });
    assert.equal(
      await fail(env, ['cp', `${tree}/.`, 'w:/tmp/into']),
      'Error: copying to container: error creating "/tmp/into/sub": mkdir /tmp/into/sub: file exists',
    );
    await env.ok(['cp', '--overwrite', `${tree}/.`, 'w:/tmp/into']);
    assert.equal(await cat('w', '/tmp/into/sub/planted'), 'planted\n');
    assert.equal((await env.berth(['exec', 'w', 'test', '-e', `${secret}/planted`])).code, 1);
    assert.deepEqual(readdirSync(secret), ['secret']);
    // The source's last link is followed, in the container.
    await env.ok(['cp', 'w:/tmp/d1/up', join(out, 'up')]);
    assert.equal(readFileSync(join(out, 'up', 'nonesuch1'), 'utf8'), 'from host\n');
  });
});

describe('cp: containers that are not running', TIMEOUT, () => {
  let env: ContainerEnv;
  let src: string;
  before(async () => {
    env = await containerEnv();
    src = hostTree(env, 'src', { hostfile: 'from host\n' });
  });
  after(() => env?.cleanup());

  it('writes into the volumes and bind mounts the container will have', TIMEOUT, async () => {
    const bind = hostTree(env, 'bind', {});
    await env.ok(['volume', 'create', 'vol1']);
    await env.ok(['volume', 'create', 'vol2']);
    await env.ok([
      'create',
      '--name',
      'v',
      '--network',
      'none',
      '-v',
      'vol1:/tmp/volume',
      '-v',
      'vol2:/tmp/volume/sub-volume',
      '-v',
      `${bind}:/tmp/volume/mount`,
      'busybox',
      'cat',
      '/tmp/volume/sub-volume/hostfile',
      '/tmp/volume/mount/hostfile',
    ]);
    await env.ok(['cp', join(src, 'hostfile'), 'v:/tmp/volume/sub-volume']);
    await env.ok(['cp', join(src, 'hostfile'), 'v:/tmp/volume/mount/']);
    const mp = async (n: string) => (await env.ok(['volume', 'inspect', n, '--format', '{{.Mountpoint}}'])).stdout.trim();
    assert.equal(readFileSync(join(await mp('vol2'), 'hostfile'), 'utf8'), 'from host\n');
    assert.deepEqual(readdirSync(await mp('vol1')), []);
    assert.equal(readFileSync(join(bind, 'hostfile'), 'utf8'), 'from host\n');
    assert.equal((await env.ok(['start', '-a', 'v'])).stdout, 'from host\nfrom host\n');
    const out = hostTree(env, 'out', {});
    await env.ok(['cp', 'v:/tmp/volume/sub-volume/hostfile', join(out, 'back')]);
    assert.equal(readFileSync(join(out, 'back'), 'utf8'), 'from host\n');
  });

  it('puts a file where a tmpfs will be mounted, which starts with it', TIMEOUT, async () => {
    await env.ok(['create', '--name', 't', '--network', 'none', '--tmpfs', '/tmp', 'busybox', 'cat', '/tmp/hostfile']);
    await env.ok(['cp', join(src, 'hostfile'), 't:/tmp']);
    assert.equal((await env.ok(['start', '-a', 't'])).stdout, 'from host\n');
  });

  it("chowns to the container's user with -a (the default), keeps owners with -a=false", TIMEOUT, async () => {
    await env.ok(['create', '--name', 'u', '--network', 'none', '--user', '1000:1001', 'busybox', 'true']);
    const f = join(src, 'owned');
    writeFileSync(f, 'x\n');
    chownSync(f, 555, 556);
    await env.ok(['cp', f, 'u:/tmp/a']);
    await env.ok(['cp', '-a=false', f, 'u:/tmp/b']);
    const tar = await tarOf(src, ['hostfile'], '1042:1043');
    await env.ok(['cp', '--archive=false', '-', 'u:/tmp'], { input: tar });
    const merged = (await env.ok(['mount', 'u'])).stdout.trim();
    try {
      const owner = (p: string) => {
        const st = statSync(join(merged, p));
        return `${st.uid}:${st.gid}`;
      };
      assert.equal(owner('tmp/a'), '1000:1001');
      assert.equal(owner('tmp/b'), '555:556');
      assert.equal(owner('tmp/hostfile'), '1042:1043');
    } finally {
      await env.ok(['unmount', 'u']);
    }
    // Towards the host, files belong to the caller.
    const out = hostTree(env, 'out-own', {});
    await env.ok(['cp', 'u:/tmp/b', out]);
    assert.equal(statSync(join(out, 'b')).uid, process.getuid!());
  });
});

describe('cp: refusals as podman words them', TIMEOUT, () => {
  let env: ContainerEnv;
  let pArgs: string[];
  before(async () => {
    env = await containerEnv();
    pArgs = podmanArgs(env.dir);
    const tarball = join(env.dir, 'bb-podman.tar');
    await busyboxRootfs(tarball);
    await ok('podman', [...pArgs, 'import', '-q', tarball, 'busybox']);
    await ok('podman', [...pArgs, 'create', '--name', 'c', 'busybox', 'true']);
    await env.ok(['create', '--name', 'c', '--network', 'none', 'busybox', 'true']);
  });
  after(async () => {
    await run('podman', [...pArgs, 'rm', '-af']);
    await run('podman', [...pArgs, 'rmi', '-af']);
    env?.cleanup();
  });

  it("gives podman's exit code and message for each", TIMEOUT, async () => {
    const src = hostTree(env, 'src', { file: 'f\n', 'dir/x': 'x\n' });
    const tar = await tarOf(src, ['file']);
    const cases: { args: string[]; input?: Buffer }[] = [
      { args: [join(src, 'nope'), 'c:/tmp'] },
      { args: ['c:/nope', src] },
      { args: [join(src, 'file'), 'c:/nope/'] },
      { args: [join(src, 'file'), 'c:/nope/deeper'] },
      { args: [join(src, 'dir'), 'c:/etc/passwd'] },
      { args: ['c:/etc', join(src, 'file')] },
      { args: ['c:/etc/passwd', `${join(src, 'nodir')}/`] },
      { args: ['c:/etc/passwd', join(src, 'nodir', 'x')] },
      { args: ['-', 'c:/etc/passwd'], input: tar },
      { args: ['-', 'c:/nope'], input: tar },
      { args: ['-', 'c:/nope/'], input: tar },
      { args: ['-', 'c:/tmp'], input: Buffer.from('plain text, no tar\n'.repeat(40)) },
      { args: [join(src, 'file'), join(src, 'dir')] },
      { args: ['-', join(src, 'dir')], input: tar },
      { args: [join(src, 'file'), 'c:/tmp', 'extra'] },
    ];
    // podman copies a failed stdin into a file of TMPDIR (else /var/tmp) that it leaves there: ours.
    const podmanTmp = join(env.dir, 'podman-tmpdir');
    mkdirSync(podmanTmp, { recursive: true });
    for (const c of cases) {
      const opts = c.input ? { input: c.input } : {};
      const theirs = await run('podman', [...pArgs, 'cp', ...c.args], { ...opts, env: { ...process.env, TMPDIR: podmanTmp } });
      const ours = await env.berth(['cp', ...c.args], opts);
      assert.deepEqual({ code: ours.code, stderr: ours.stderr.trim() }, { code: theirs.code, stderr: theirs.stderr.trim() }, c.args.join(' '));
    }
  });
});
