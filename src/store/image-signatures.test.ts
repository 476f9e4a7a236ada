import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import type { UnverifiedSignature } from '../signature/types.js';
import { tempDir } from '../testing/cli.js';
import type { ImageRecord } from './images.js';
import { readImageSignatures, signaturesPath, writeImageSignatures, type SignaturesByDigest } from './image-signatures.js';
import { Store } from './store.js';

const ID = `sha256:${'a'.repeat(64)}`;
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const gpg = (text: string): UnverifiedSignature => ({ kind: 'simple-signing', bytes: new Uint8Array(Buffer.from(text)) });
const sigstore: UnverifiedSignature = {
  kind: 'sigstore',
  payload: new Uint8Array([0, 1, 2, 255, 10]),
  annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' },
};

function record(id: string): ImageRecord {
  return { id, names: [], digests: [], manifestDigest: D1, manifestMediaType: 'x', layers: [], layerBlobs: [], size: 0, created: '', added: '' };
}

describe('image signatures file', { timeout: 60_000 }, () => {
  const tmp = tempDir('berth-imgsig-');
  after(() => tmp.cleanup());

  it('keeps both kinds exactly as read, per manifest digest; no file is no signatures, an empty set no file', async () => {
    const root = join(tmp.path, 'a');
    assert.deepEqual(await readImageSignatures(root, ID), {});
    const set: SignaturesByDigest = { [D1]: [gpg('\x00binary\xffgpg'), sigstore], [D2]: [gpg('other')] };
    await writeImageSignatures(root, ID, set);
    assert.deepEqual(await readImageSignatures(root, ID), set);
    assert.equal(signaturesPath(root, ID), join(root, 'signatures', `${'a'.repeat(64)}.json`));
    await writeImageSignatures(root, ID, { [D1]: [] });
    assert.ok(!existsSync(signaturesPath(root, ID)));
    assert.throws(() => signaturesPath(root, 'sha256:../../etc'), /not an image ID/);
  });

  it('a copy that carries some replaces that digest set; an image just added gets exactly its own; removing the image removes the file', async () => {
    const root = join(tmp.path, 'b');
    const store = await Store.open({ root });
    try {
      await store.updateImages(async (images) => {
        images.push(record(ID));
        // A file left under the ID by a killed removal is not the new image's.
        await writeImageSignatures(root, ID, { [D2]: [gpg('stale')] });
        await store.keepImageSignatures(ID, { [D1]: [gpg('one')] }, true);
      });
      assert.deepEqual(await store.imageSignatures(ID), { [D1]: [gpg('one')] });
      // The image pulled again: with none carried it keeps its own; with some, that digest's are replaced.
      await store.updateImages(() => store.keepImageSignatures(ID, {}, false));
      await store.updateImages(() => store.keepImageSignatures(ID, { [D2]: [sigstore] }, false));
      assert.deepEqual(await store.imageSignatures(ID), { [D1]: [gpg('one')], [D2]: [sigstore] });
      await store.updateImages(() => store.keepImageSignatures(ID, { [D1]: [gpg('two')] }, false));
      assert.deepEqual(await store.imageSignatures(ID), { [D1]: [gpg('two')], [D2]: [sigstore] });
      await store.updateImages((images) => {
        images.splice(0, images.length);
      });
      assert.ok(!existsSync(signaturesPath(root, ID)));
      assert.deepEqual(await store.imageSignatures(ID), {});
    } finally {
      await store.close();
    }
  });

  it('a kill -9 while the file is rewritten leaves the old set or the new one, never part of one', async () => {
    const root = join(tmp.path, 'c');
    // Big enough sets that a write takes a while: the kill lands inside one.
    const big = (fill: string): SignaturesByDigest => ({ [D1]: Array.from({ length: 64 }, (_, i) => gpg(`${fill}${i}`.padEnd(64 * 1024, fill))) });
    const module = new URL('./image-signatures.js', import.meta.url).href;
    const script = `
      const { writeImageSignatures } = await import(${JSON.stringify(module)});
      const big = (fill) => ({ ${JSON.stringify(D1)}: Array.from({ length: 64 }, (_, i) => ({ kind: 'simple-signing', bytes: Buffer.from(\`\${fill}\${i}\`.padEnd(64 * 1024, fill)) })) });
      const sets = [big('A'), big('B')];
      for (let n = 0; ; n++) { await writeImageSignatures(${JSON.stringify(root)}, ${JSON.stringify(ID)}, sets[n % 2]); if (n === 0) process.stdout.write('ready\\n'); }
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    await once(child.stdout, 'data');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await exited;
    const texts = (set: SignaturesByDigest) =>
      Object.entries(set).map(([d, list]) => [d, list.map((sig) => (sig.kind === 'simple-signing' ? Buffer.from(sig.bytes).toString() : ''))]);
    const found = texts(await readImageSignatures(root, ID));
    const whole = [texts(big('A')), texts(big('B'))].some((set) => {
      try {
        assert.deepEqual(found, set);
        return true;
      } catch {
        return false;
      }
    });
    assert.ok(whole, 'the whole old set or the whole new one');
    // What the kill left is a temp file beside it at most, which no reader takes for the file; the next write sweeps it.
    for (const f of readdirSync(join(root, 'signatures'))) assert.ok(f === `${'a'.repeat(64)}.json` || f.startsWith('.'), f);
    JSON.parse(readFileSync(signaturesPath(root, ID), 'utf8'));
    writeFileSync(join(root, 'signatures', `.${'a'.repeat(64)}.json.tmp-1-dead`), 'half');
    await writeImageSignatures(root, ID, { [D2]: [sigstore] });
    assert.deepEqual(readdirSync(join(root, 'signatures')), [`${'a'.repeat(64)}.json`]);
  });
});
