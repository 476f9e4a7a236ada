import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import type { DockerEngine } from '../testing/docker-engines.js';
import { TEST_IMAGE } from '../testing/docker-engines.js';
import { type Scenario, scenariosPerEngine } from '../testing/docker-scenarios.js';

/**
 * dockerode 5, the Node client most tools use, against each engine: what a program does with it
 * (create/start/wait, logs split into stdout and stderr, exec and its exit code, image lists, pulls
 * with progress), checked as dockerd 20.10 answers.
 */

function client(e: DockerEngine): Docker {
  return new Docker({ socketPath: e.socket });
}

/** A multiplexed stream split into its stdout and stderr text, once it ends. */
async function demux(docker: Docker, stream: Readable): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.stdout.push(c));
  err.on('data', (c: Buffer) => chunks.stderr.push(c));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  return { stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}

const scenarios: Record<string, Scenario> = {
  'create, start and wait give the exit code; logs come demultiplexed': async (e) => {
    const docker = client(e);
    const c = await docker.createContainer({
      Image: TEST_IMAGE,
      name: 'node-made',
      Cmd: ['sh', '-c', 'echo to out; echo to err >&2; echo more out; exit 7'],
      Env: ['WHO=dockerode'],
      Labels: { suite: 'dockerode' },
    });
    const before = await c.inspect();
    assert.equal(before.State.Status, 'created');
    assert.equal(before.Name, '/node-made');
    await c.start();
    const waited = (await c.wait()) as { StatusCode: number };
    assert.equal(waited.StatusCode, 7);
    const logs = await demux(docker, (await c.logs({ stdout: true, stderr: true, follow: true })) as unknown as Readable);
    assert.equal(logs.stdout, 'to out\nmore out\n');
    assert.equal(logs.stderr, 'to err\n');
    const after = await c.inspect();
    assert.equal(after.State.ExitCode, 7);
    assert.equal(after.State.Running, false);
    const listed = await docker.listContainers({ all: true, filters: { label: ['suite=dockerode'] } });
    assert.deepEqual(
      listed.map((l) => l.Names),
      [['/node-made']],
    );
    await c.remove();
    await assert.rejects(c.inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
  },

  'exec runs a command and reports its ExitCode': async (e) => {
    const docker = client(e);
    const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['sleep', '300'] });
    await c.start();
    try {
      const exec = await c.exec({ Cmd: ['sh', '-c', 'echo in exec; echo oops >&2; exit 9'], AttachStdout: true, AttachStderr: true, Env: ['X=1'] });
      const stream = await exec.start({ hijack: true, stdin: false });
      const out = await demux(docker, stream);
      assert.equal(out.stdout, 'in exec\n');
      assert.equal(out.stderr, 'oops\n');
      const info = await exec.inspect();
      assert.equal(info.ExitCode, 9);
      assert.equal(info.Running, false);
    } finally {
      await c.remove({ force: true });
    }
  },

  'listImages shows the test image; pull reports progress events': async (e) => {
    const docker = client(e);
    const images = await docker.listImages();
    assert.ok(
      images.some((i) => (i.RepoTags ?? []).some((t) => t === TEST_IMAGE || t === `docker.io/library/${TEST_IMAGE}`)),
      JSON.stringify(images.map((i) => i.RepoTags)),
    );
    // Something to pull: an image with a layer of its own, pushed to the local registry, then removed
    // (its layer with it), so that the pull downloads that layer.
    const ref = `${e.registry}/dockerode/busybox:pull`;
    // (Made by a build: podman 4.3's service answers the docker CLI's `commit` with "Decode(): EOF".)
    const ctx = join(e.dir, 'dockerode-ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo ${e.kind} > /made\n`);
    await e.dockerOk(['build', '-t', ref, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    await e.dockerOk(['push', ref], { timeoutMs: 120_000 });
    await e.dockerOk(['rmi', ref]);
    const events: { status?: string; id?: string; error?: string }[] = [];
    const stream = await docker.pull(ref);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (ev: { status?: string }) => events.push(ev),
      );
    });
    assert.ok(events.length > 0);
    assert.ok(!events.some((ev) => ev.error), JSON.stringify(events));
    // Per-layer progress, as docker's pull stream has it (both anchors send these).
    assert.ok(
      events.some((ev) => /^(Pull complete|Download complete)$/.test(ev.status ?? '') && typeof ev.id === 'string'),
      JSON.stringify(events),
    );
    const pulled = await docker.getImage(ref).inspect();
    assert.equal((await e.dockerOk(['run', '--rm', ref, 'cat', '/made'])).stdout, `${e.kind}\n`);
    assert.match(pulled.Id, /^sha256:[0-9a-f]{64}$/);
    await docker.getImage(ref).remove();
    await assert.rejects(docker.getImage(ref).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
  },
};

scenariosPerEngine('dockerode', scenarios, { timeoutMs: 300_000 });
