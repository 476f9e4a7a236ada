import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { systemErrorText } from './context.js';

function failure(f: () => unknown): NodeJS.ErrnoException {
  try {
    f();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a failure');
}

describe("system call failures in podman's (Go's) words", { timeout: 5_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-context-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  writeFileSync(file, 'x');

  test('a directory path that names a regular file (--runroot FILE)', () => {
    assert.equal(systemErrorText(failure(() => mkdirSync(file, { recursive: true }))), `mkdir ${file}: not a directory`);
    assert.equal(systemErrorText(failure(() => mkdirSync(join(file, 'sub'), { recursive: true }))), `mkdir ${join(file, 'sub')}: not a directory`);
  });

  test("the C library's words, the path after the call", () => {
    assert.equal(systemErrorText(failure(() => mkdirSync(dir))), `mkdir ${dir}: file exists`);
    assert.equal(systemErrorText(failure(() => openSync(join(dir, 'none'), 'r'))), `open ${join(dir, 'none')}: no such file or directory`);
    assert.equal(
      systemErrorText(failure(() => renameSync(join(dir, 'none'), join(dir, 'b')))),
      `rename ${join(dir, 'none')} ${join(dir, 'b')}: no such file or directory`,
    );
  });
});
