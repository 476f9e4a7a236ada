import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../../testing/cli.js';
import { contextSources, hashSources, loadContext } from './context.js';
import { copyInto } from './copy.js';

describe('COPY from the context', { timeout: 30_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('copies what the hash read, from that one walk, without reading the files again', async () => {
    const ctxDir = join(tmp.path, 'ctx');
    mkdirSync(join(ctxDir, 'src', 'deep'), { recursive: true });
    writeFileSync(join(ctxDir, 'src', 'a.txt'), 'hashed a\n');
    writeFileSync(join(ctxDir, 'src', 'deep', 'b.txt'), 'hashed b\n');
    writeFileSync(join(ctxDir, 'Containerfile'), 'FROM scratch\n');
    const ctx = await loadContext(ctxDir, join(ctxDir, 'Containerfile'));
    const sources = contextSources(ctx, 'src');
    const hashed = await hashSources(sources, ctx);
    assert.equal(
      hashed.walked.entries
        .get(sources[0]!)
        ?.map((e) => e.rel)
        .join(' '),
      ' a.txt deep deep/b.txt',
    );
    assert.equal(hashed.walked.contents.size, 2);
    // What changes after the hash is not what the key says: the copy writes what was hashed.
    writeFileSync(join(ctxDir, 'src', 'a.txt'), 'changed\n');
    const root = join(tmp.path, 'root');
    mkdirSync(root);
    await copyInto(root, { sources, ctx, dest: '/app/', walked: hashed.walked });
    assert.equal(readFileSync(join(root, 'app', 'a.txt'), 'utf8'), 'hashed a\n');
    assert.equal(readFileSync(join(root, 'app', 'deep', 'b.txt'), 'utf8'), 'hashed b\n');
    // Without a walk to reuse, the copy reads the files as they are now.
    const again = join(tmp.path, 'again');
    mkdirSync(again);
    await copyInto(again, { sources, ctx, dest: '/app/' });
    assert.equal(readFileSync(join(again, 'app', 'a.txt'), 'utf8'), 'changed\n');
    // The key of a bind mount's context does not keep file contents.
    assert.equal((await hashSources(sources, ctx, { keep: false })).walked.contents.size, 0);
  });
});
