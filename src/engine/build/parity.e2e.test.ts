import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { hasCommand, ok, podmanArgs } from '../../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../../testing/containers.js';

const CONTAINERFILE = [
  'FROM busybox',
  'ENV A=1 B="two words"',
  'WORKDIR /srv/app',
  'COPY --chown=1000:1000 --chmod=640 app.txt ./',
  'COPY conf /etc/myconf/',
  'RUN echo built > /srv/app/out && mkdir -p /data/sub && ln -s out /srv/app/link && chmod 700 /data/sub',
  'ENV A=3 C=$B',
  'USER 1000',
  'EXPOSE 8080 53/udp',
  'LABEL k=v "x y"=z',
  'VOLUME /data',
  'STOPSIGNAL SIGINT',
  'HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD wget -q localhost || exit 1',
  'ENTRYPOINT ["/bin/sh", "-c"]',
  'CMD ["cat /srv/app/out"]',
  '',
].join('\n');

/**
 * One entry of a layer as compared: no times; the mode's permission bits only (Go's tar adds the
 * type bits); a whiteout's mode not at all (containers/storage writes 0, moby and berth 0600).
 */
interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  content: string;
}

async function layerEntries(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const e of extract) {
      const h = createHash('sha256');
      for await (const chunk of e) h.update(chunk as Buffer);
      const hd = e.header;
      out.push({
        name: hd.name.replace(/\/$/, ''),
        type: hd.type ?? 'file',
        mode: /(^|\/)\.wh\./.test(hd.name) ? 0 : (hd.mode ?? 0) & 0o7777,
        uid: hd.uid ?? 0,
        gid: hd.gid ?? 0,
        linkname: hd.linkname ?? '',
        content: hd.type === 'file' ? h.digest('hex') : '',
      });
    }
  })();
  const raw = readFileSync(path);
  Readable.from([raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw]).pipe(extract);
  await done;
  return out;
}

/** The config and the layers (as entry lists) of the single image of a docker-archive. */
async function readArchive(archive: string): Promise<{ config: Record<string, any>; layers: Entry[][] }> {
  const dir = `${archive}.d`;
  mkdirSync(dir);
  await ok('tar', ['-xf', archive, '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))[0];
  const config = JSON.parse(readFileSync(join(dir, manifest.Config), 'utf8'));
  const layers: Entry[][] = [];
  for (const l of manifest.Layers as string[]) layers.push(await layerEntries(join(dir, l)));
  return { config, layers };
}

/**
 * Files that podman 4.3's buildah leaves in a RUN layer as empty mount points (/etc/hosts and
 * friends, /run for .containerenv); berth keeps them out, as newer buildah does.
 */
const STUB = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'run']);

describe('berth build and podman build give the same image', { timeout: 300_000, skip: !hasCommand('podman') }, () => {
  let env: ContainerEnv;
  let podman: string[];
  before(async () => {
    env = await containerEnv();
    podman = podmanArgs(env.dir);
    const archive = join(env.dir, 'busybox-archive.tar');
    await env.ok(['save', '-o', archive, 'busybox']);
    await ok('podman', [...podman, 'load', '-i', archive]);
  });
  after(async () => {
    await ok('podman', [...podman, 'rmi', '-a', '-f']).catch(() => undefined);
    env.cleanup();
  });

  for (const format of ['docker', 'oci'] as const) {
    it(`${format} format: the same run config and the same layer contents`, async () => {
      const dir = join(env.dir, `ctx-${format}`);
      mkdirSync(join(dir, 'conf'), { recursive: true });
      writeFileSync(join(dir, 'app.txt'), 'hello\n');
      writeFileSync(join(dir, 'conf', 'a.conf'), 'a=1\n');
      writeFileSync(join(dir, 'Containerfile'), CONTAINERFILE);
      await env.ok(['build', '-q', '--format', format, '-t', 'parity', dir]);
      await ok('podman', [...podman, 'build', '-q', '--format', format, '-t', 'parity', dir]);
      const berthArchive = join(env.dir, `berth-${format}.tar`);
      const podmanArchive = join(env.dir, `podman-${format}.tar`);
      await env.ok(['save', '-o', berthArchive, 'parity']);
      await ok('podman', [...podman, 'save', '-o', podmanArchive, 'parity']);
      const b = await readArchive(berthArchive);
      const p = await readArchive(podmanArchive);

      const fields = ['Cmd', 'Entrypoint', 'Env', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck'];
      const pick = (c: Record<string, any>) => {
        const out: Record<string, unknown> = {};
        for (const f of fields) if (c[f] !== undefined && c[f] !== null) out[f] = c[f];
        const labels = { ...(out['Labels'] as Record<string, string>) };
        delete labels['io.buildah.version'];
        out['Labels'] = labels;
        return out;
      };
      assert.deepEqual(pick(b.config.config), pick(p.config.config));
      assert.equal(b.config.config.Healthcheck !== undefined, format === 'docker');

      assert.equal(b.layers.length, p.layers.length);
      for (const [i, layer] of b.layers.entries()) {
        const theirs = p.layers[i]!.filter((e) => !(STUB.has(e.name) && (e.type === 'directory' || e.content === createHash('sha256').digest('hex'))));
        assert.deepEqual(layer, theirs, `layer ${i}`);
      }
    });
  }

  it('--squash: the same single layer over the base and the same history shape', async () => {
    const dir = join(env.dir, 'ctx-squash');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    writeFileSync(
      join(dir, 'Containerfile'),
      'FROM busybox\nCOPY a.txt /a.txt\nRUN echo b > /b.txt && rm /bin/true && mkdir -p /d/e\nRUN rm /a.txt && echo c > /d/e/c\nENV X=1\n',
    );
    await env.ok(['build', '-q', '--squash', '-t', 'squashed', dir]);
    await ok('podman', [...podman, 'build', '-q', '--squash', '-t', 'squashed', dir]);
    const berthArchive = join(env.dir, 'berth-squash.tar');
    const podmanArchive = join(env.dir, 'podman-squash.tar');
    await env.ok(['save', '-o', berthArchive, 'squashed']);
    await ok('podman', [...podman, 'save', '-o', podmanArchive, 'squashed']);
    const b = await readArchive(berthArchive);
    const p = await readArchive(podmanArchive);
    assert.equal(b.layers.length, 2);
    assert.equal(p.layers.length, 2);
    const theirs = p.layers[1]!.filter((e) => !(STUB.has(e.name) && (e.type === 'directory' || e.content === createHash('sha256').digest('hex'))));
    assert.deepEqual(b.layers[1], theirs);
    const shape = (h: { empty_layer?: boolean }[]) => h.map((e) => e.empty_layer === true);
    assert.deepEqual(shape(b.config.history), shape(p.config.history));
    assert.deepEqual(b.config.config.Env, p.config.config.Env);
  });
  it('ADD <url>, RUN --mount=type=bind and the platform ARGs give the same layers and values', async () => {
    const server = createServer((req, res) => {
      if (req.url !== '/files/hello.txt') return void res.writeHead(404).end();
      res.writeHead(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'content-length': '13' }).end('hello remote\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/hello.txt`;
      const dir = join(env.dir, 'ctx-features');
      mkdirSync(join(dir, 'data'), { recursive: true });
      writeFileSync(join(dir, 'data', 'a.txt'), 'bound\n');
      writeFileSync(
        join(dir, 'Containerfile'),
        [
          'FROM busybox',
          `ADD ${url} /dl/`,
          `ADD --chmod=640 --chown=1000:1000 ${url} /renamed.txt`,
          'ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH',
          'RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/a.txt > /bound && echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM $BUILDOS $BUILDARCH" >> /bound',
          '',
        ].join('\n'),
      );
      await env.ok(['build', '-q', '-t', 'features', dir]);
      await ok('podman', [...podman, 'build', '-q', '-t', 'features', dir]);
      const berthArchive = join(env.dir, 'berth-features.tar');
      const podmanArchive = join(env.dir, 'podman-features.tar');
      await env.ok(['save', '-o', berthArchive, 'features']);
      await ok('podman', [...podman, 'save', '-o', podmanArchive, 'features']);
      const b = await readArchive(berthArchive);
      const p = await readArchive(podmanArchive);
      assert.equal(b.layers.length, 4);
      assert.equal(p.layers.length, 4);
      assert.deepEqual(b.layers[1], p.layers[1]);
      assert.deepEqual(b.layers[2], p.layers[2]);
      // podman 4.3 leaves the bind's mount point (mnt, mnt/data) in the RUN layer; the file is what counts.
      const bound = (l: Entry[]) => l.filter((e) => e.name === 'bound');
      assert.deepEqual(bound(b.layers[3]!), bound(p.layers[3]!));
      assert.equal(bound(b.layers[3]!).length, 1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
