// The service answers image lists and inspects from records it keeps in memory (store/file-cache.ts):
// every change the CLI (another process) or the API itself makes must show in the very next answer.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { buildContext } from '../testing/containers.js';

describe('the Docker API: image lists follow every change to the store at once', { timeout: 5 * 60_000 }, () => {
  let svc: BerthService;
  before(async () => {
    svc = await berthService();
  });
  after(async () => {
    await svc?.stop();
    svc?.cleanup();
  });

  /** Every tag the list shows, sorted. */
  const listedTags = async (query = '') => {
    const r = await svc.api('GET', `/images/json${query}`);
    assert.equal(r.status, 200, r.body.toString());
    return (r.json() as { RepoTags: string[] | null }[]).flatMap((i) => i.RepoTags ?? []).sort();
  };
  const inspectStatus = async (name: string) => (await svc.api('GET', `/images/${name}/json`)).status;

  test('tag, untag, import and rmi with the CLI, tag and rmi through the API: each seen by the next list and inspect', async () => {
    assert.deepEqual(await listedTags(), ['busybox:latest']);
    assert.equal(await inspectStatus('cached/a:v1'), 404);

    await svc.ok(['tag', 'busybox', 'cached/a:v1']);
    assert.deepEqual(await listedTags(), ['busybox:latest', 'cached/a:v1']);
    assert.deepEqual((await svc.api('GET', '/images/cached/a:v1/json')).json().RepoTags, ['busybox:latest', 'cached/a:v1']);

    await svc.ok(['untag', 'busybox', 'cached/a:v1']);
    assert.deepEqual(await listedTags(), ['busybox:latest']);
    assert.equal(await inspectStatus('cached/a:v1'), 404);

    // Changes of the same size, one right after another: each file is as long as the one before.
    for (const n of ['1', '2', '3']) {
      await svc.ok(['tag', 'busybox', `cached/b:v${n}`]);
      assert.deepEqual(await listedTags(), ['busybox:latest', `cached/b:v${n}`]);
      await svc.ok(['untag', 'busybox', `cached/b:v${n}`]);
    }
    assert.deepEqual(await listedTags(), ['busybox:latest']);

    // A new image, then its removal.
    await svc.ok(['import', '--change', 'CMD ["sh"]', join(svc.dir, 'busybox.tar'), 'cached/imported:latest']);
    const imported = (await svc.ok(['image', 'inspect', '--format', '{{.Id}}', 'cached/imported'])).stdout.trim();
    assert.deepEqual(await listedTags(), ['busybox:latest', 'cached/imported:latest']);
    assert.equal(await inspectStatus(imported), 200);
    await svc.ok(['rmi', 'cached/imported']);
    assert.deepEqual(await listedTags(), ['busybox:latest']);
    assert.equal(await inspectStatus(imported), 404);

    // Through the API itself.
    assert.equal((await svc.api('POST', '/images/busybox/tag?repo=cached/api&tag=v1')).status, 201);
    assert.deepEqual(await listedTags(), ['busybox:latest', 'cached/api:v1']);
    assert.equal((await svc.api('DELETE', '/images/cached/api:v1')).status, 200);
    assert.deepEqual(await listedTags(), ['busybox:latest']);
    assert.deepEqual((await svc.api('GET', '/images/busybox/json')).json().RepoTags, ['busybox:latest']);

    // However many changes came, the service holds one file open: the images file it read last.
    const pid = servicePid(svc.socket);
    const held = readdirSync(`/proc/${pid}/fd`).filter((fd) => target(`/proc/${pid}/fd/${fd}`) === join(svc.root, 'images.json'));
    assert.equal(held.length, 1);
  });

  test('a CLI build’s intermediate images stay hidden without all=1, though the build cache appeared after the service read it', async () => {
    assert.deepEqual(await listedTags(), ['busybox:latest'], 'read once while there is no build cache');
    const dir = buildContext(svc, 'ctx-cached', { Dockerfile: 'FROM busybox\nENV STEP=one\nLABEL step=two\n' });
    await svc.ok(['build', '-t', 'cached/built', dir]);
    const list = (await svc.api('GET', '/images/json')).json() as { RepoTags: string[]; ParentId: string }[];
    assert.deepEqual(list.flatMap((i) => i.RepoTags).sort(), ['busybox:latest', 'cached/built:latest'], JSON.stringify(list));
    const all = (await svc.api('GET', '/images/json?all=1')).json() as { RepoTags: string[] }[];
    assert.equal(all.length, 3, 'with all=1 the ENV step’s image too');
    const built = (await svc.api('GET', '/images/cached/built/json')).json();
    assert.match(built.Parent, /^sha256:/, 'inspect names the step it was built on');
    await svc.ok(['rmi', 'cached/built']);
    await svc.ok(['builder', 'prune', '-a', '-f']);
    assert.deepEqual(await listedTags('?all=1'), ['busybox:latest']);
  });
});

/** The service's process: the berth whose command line names its socket. */
function servicePid(socket: string): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(`unix://${socket}`) && cmdline.includes('service')) return pid;
  }
  throw new Error(`no process serves ${socket}`);
}

function target(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}
