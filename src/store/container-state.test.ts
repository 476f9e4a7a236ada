import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { newContainerState, type StoredContainer } from './containers.js';
import { readStateFile, readStateFileSync, withState, writeStateFile } from './container-state.js';
import { Store } from './store.js';

function record(id: string, state?: StoredContainer['state']): StoredContainer {
  return {
    id,
    name: `n-${id}`,
    image: 'sha256:0',
    imageName: 'busybox',
    layers: [],
    created: '2026-01-01T00:00:00.000Z',
    config: {} as StoredContainer['config'],
    ...(state ? { state } : {}),
  };
}

describe('container state files', { timeout: 10_000 }, () => {
  test("the state file wins over a state kept in the record by an older berth; the record's is used when there is no file; neither: being removed", () => {
    const legacy = { ...newContainerState(), status: 'exited' as const, exitCode: 7 };
    const file = { ...newContainerState(), status: 'running' as const, pid: 42 };
    assert.equal(withState(record('a', legacy), file).state.pid, 42);
    assert.equal(withState(record('a', legacy), undefined).state.exitCode, 7);
    assert.equal(withState(record('a'), undefined).state.status, 'removing');
  });

  test('written whole, synced or not, and read back; a missing file or directory is no state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-state-'));
    try {
      const state = { ...newContainerState(), status: 'exited' as const, exitCode: 3 };
      await writeStateFile(dir, state);
      assert.deepEqual(await readStateFile(dir), state);
      await writeStateFile(dir, { ...state, exitCode: 4 }, false);
      assert.equal(readStateFileSync(dir)?.exitCode, 4);
      assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left');
      assert.equal(await readStateFile(join(dir, 'gone')), undefined);
      assert.equal(readStateFileSync(join(dir, 'state.json', 'x')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a store with records of an older berth (state inline) and of this one lists both with their states, and a records update keeps the old inline state', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-state-store-'));
    try {
      const old = record('old', { ...newContainerState(), status: 'exited', exitCode: 9 });
      const fresh = record('new');
      writeFileSync(join(root, 'containers.json'), JSON.stringify({ version: 1, containers: [old, fresh] }));
      mkdirSync(join(root, 'containers', 'new'), { recursive: true });
      await writeStateFile(join(root, 'containers', 'new'), { ...newContainerState(), status: 'created' });
      const store = await Store.open({ root, runRoot: join(root, 'run') });
      try {
        const listed = await store.containers();
        assert.deepEqual(
          listed.map((c) => [c.id, c.state.status, c.state.exitCode]),
          [
            ['old', 'exited', 9],
            ['new', 'created', 0],
          ],
        );
        await store.updateContainers((all) => {
          all.find((c) => c.id === 'new')!.name = 'renamed';
        });
        const again = await store.containers();
        assert.equal(again.find((c) => c.id === 'old')!.state.exitCode, 9);
        assert.equal(again.find((c) => c.id === 'new')!.name, 'renamed');
      } finally {
        await store.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
