import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MediaType } from '../../oci/mediatypes.js';
import { parseNormalizedNamed } from '../../oci/reference.js';
import { answer, FaultRegistry } from '../../testing/fault-registry.js';
import { caseImage } from '../copy/copy.case.js';
import { writeRegistryImage } from './writer.js';

function openSockets(reg: FaultRegistry): number {
  return (reg as unknown as { sockets: Set<unknown> }).sockets.size;
}

async function noneOpen(reg: FaultRegistry): Promise<number> {
  for (let i = 0; i < 100 && openSockets(reg) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return openSockets(reg);
}

it('a push whose manifest the registry refuses fails with that refusal: one PUT, no second one in the other format', { timeout: 30_000 }, async () => {
  const reg = await new FaultRegistry().start();
  try {
    reg.fault = (req, res) => {
      if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '') && req.headers['content-type'] === MediaType.OciManifest) {
        req.resume();
        return answer(req, res, 415);
      }
      return false;
    };
    const image = await caseImage({ texts: ['refused'] });
    await assert.rejects(writeRegistryImage(parseNormalizedNamed(`${reg.host}/strict/app:1`), image), /415|unsupported|UNSUPPORTED/i);
    const puts = reg.log.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
    assert.equal(puts.length, 1, JSON.stringify(puts));
    assert.equal(reg.tags.size, 0);
  } finally {
    await reg.stop();
  }
});

it('a push that opens its own registry client closes it', { timeout: 30_000 }, async () => {
  const reg = await new FaultRegistry().start();
  try {
    const image = await caseImage({ texts: ['closed'] });
    const { digest } = await writeRegistryImage(parseNormalizedNamed(`${reg.host}/tidy/app:1`), image);
    assert.equal(digest, image.manifest.digest);
    assert.equal(await noneOpen(reg), 0, 'a connection to the registry was left open');
  } finally {
    await reg.stop();
  }
});
