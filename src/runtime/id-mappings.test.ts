import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocateAuto,
  keepIdMappings,
  mappedCount,
  mappedRanges,
  nomapMappings,
  parseIdMapFlags,
  splitAtParentRanges,
  toContainerId,
  toHostId,
} from './id-mappings.js';

describe('container ID mappings', { timeout: 5_000 }, () => {
  it('reads --uidmap triplets, repeated or joined by commas, and refuses bad or overlapping ones', () => {
    assert.deepEqual(parseIdMapFlags(['0:100000:1000', '1000:200000:10,2000:300000:1'], '--uidmap'), [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 200000, size: 10 },
      { containerID: 2000, hostID: 300000, size: 1 },
    ]);
    assert.throws(() => parseIdMapFlags(['0:1'], '--uidmap'), /invalid --uidmap "0:1": expected CONTAINER_ID:HOST_ID:SIZE/);
    assert.throws(() => parseIdMapFlags(['0:1:0'], '--uidmap'), /empty/);
    assert.throws(() => parseIdMapFlags(['0:100:10', '5:200:10'], '--gidmap'), /invalid --gidmap: the ranges 0:100:10 and 5:200:10 overlap/);
    assert.throws(() => parseIdMapFlags(['0:100:10', '20:105:10'], '--uidmap'), /overlap/);
  });

  it('translates IDs both ways, and leaves out what the map does not hold', () => {
    const maps = [
      { containerID: 0, hostID: 1, size: 1000 },
      { containerID: 1000, hostID: 0, size: 1 },
    ];
    assert.equal(toHostId(maps, 0), 1);
    assert.equal(toHostId(maps, 999), 1000);
    assert.equal(toHostId(maps, 1000), 0);
    assert.equal(toHostId(maps, 1001), undefined);
    assert.equal(toContainerId(maps, 0), 1000);
    assert.equal(toContainerId(maps, 5), 4);
    assert.equal(toContainerId(maps, 5000), undefined);
  });

  it("keep-id puts the user's own ID at itself, the subordinate IDs around it", () => {
    assert.deepEqual(keepIdMappings(1000, 65537), [
      { containerID: 0, hostID: 1, size: 1000 },
      { containerID: 1000, hostID: 0, size: 1 },
      { containerID: 1001, hostID: 1001, size: 64536 },
    ]);
    assert.deepEqual(keepIdMappings(70000, 65537), [
      { containerID: 0, hostID: 1, size: 65536 },
      { containerID: 70000, hostID: 0, size: 1 },
    ]);
    assert.deepEqual(nomapMappings(65537), [{ containerID: 0, hostID: 1, size: 65536 }]);
    assert.equal(mappedCount('         0       1001          1\n         1     100000      65536\n'), 65537);
  });

  it("cuts a map where the parent namespace's ranges meet, as the kernel takes a line only within one", () => {
    const parent = mappedRanges('0 1001 1\n1 100000 65536\n65537 3100000 65536\n');
    assert.deepEqual(parent, [
      { start: 0, size: 1 },
      { start: 1, size: 65536 },
      { start: 65537, size: 65536 },
    ]);
    assert.deepEqual(splitAtParentRanges(keepIdMappings(1001, 131073), parent), [
      { containerID: 0, hostID: 1, size: 1001 },
      { containerID: 1001, hostID: 0, size: 1 },
      { containerID: 1002, hostID: 1002, size: 64535 },
      { containerID: 65537, hostID: 65537, size: 65536 },
    ]);
    assert.deepEqual(splitAtParentRanges([{ containerID: 0, hostID: 0, size: 10 }], [{ start: 0, size: 4294967295 }]), [
      { containerID: 0, hostID: 0, size: 10 },
    ]);
  });

  it('auto gives each container IDs no other container has', () => {
    const available = [{ start: 1, size: 10000 }];
    assert.deepEqual(allocateAuto(1024, available, []), [{ containerID: 0, hostID: 1, size: 1024 }]);
    assert.deepEqual(allocateAuto(1024, available, [{ start: 1, size: 1024 }]), [{ containerID: 0, hostID: 1025, size: 1024 }]);
    assert.deepEqual(
      allocateAuto(1024, available, [
        { start: 2000, size: 10 },
        { start: 1, size: 1024 },
      ]),
      [{ containerID: 0, hostID: 2010, size: 1024 }],
    );
    assert.deepEqual(
      allocateAuto(
        100,
        [
          { start: 1, size: 50 },
          { start: 500, size: 200 },
        ],
        [],
      ),
      [{ containerID: 0, hostID: 500, size: 100 }],
    );
    assert.throws(() => allocateAuto(20000, available, []), /--userns=auto: no 20000 IDs are left/);
  });
});
