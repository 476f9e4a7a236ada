import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { linkName } from './overlay.js';

const SAFE = /^[A-Za-z0-9]{12}$/;

describe('overlay: the short names of lower layers', { timeout: 5_000 }, () => {
  it("takes a layer's name from the first 72 bits of its chain ID", () => {
    const id = 'dc56e63b35ec0ce4d78200094aed687df980112e18dedde4ef1132e8623f260b';
    const name = linkName(`/var/lib/berth/layers/${id}/diff`);
    assert.equal(name, Buffer.from(id.slice(0, 18), 'hex').toString('base64url').replace(/[-_]/g, 'x'));
    assert.match(name, SAFE);
    // The same layer under another root gets the same name; another layer, another one.
    assert.equal(linkName(`/tmp/x/layers/${id}/diff`), name);
    assert.notEqual(linkName(`/var/lib/berth/layers/${id.replace(/^dc/, 'dd')}/diff`), name);
  });

  it('hashes any other directory, and never puts a separator of mount options in a name', () => {
    const dir = '/srv/some layer/diff';
    const expected = createHash('sha256').update(dir).digest().subarray(0, 9).toString('base64url').replace(/[-_]/g, 'x');
    assert.equal(linkName(dir), expected);
    for (let i = 0; i < 200; i++) {
      const id = createHash('sha256').update(String(i)).digest('hex');
      assert.match(linkName(`/r/layers/${id}/diff`), SAFE);
      assert.match(linkName(`/r/other/${i}/diff`), SAFE);
    }
  });
});
