import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OciRuntime } from './oci-runtime.js';
import { compiledSeccomp, keepCompiledSeccomp, SECCOMP_BPF_ANNOTATION } from './seccomp-bpf-cache.js';
import type { OciSeccomp } from './seccomp.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-test-seccomp-bpf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A runtime named as crun or runc (a file of that name: only its identity is read), its state under dir. */
function runtimeNamed(name: string): OciRuntime {
  const bin = join(dir, 'bin', name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  return new OciRuntime(bin, join(dir, 'run', 'runtime', name));
}

/** What crun leaves in a container's state directory after its create. */
function crunCreated(runtime: OciRuntime, id: string, program: Buffer): void {
  mkdirSync(join(runtime.stateRoot, id), { recursive: true });
  writeFileSync(join(runtime.stateRoot, id, 'seccomp.bpf'), program);
}

const profile: OciSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
const program = Buffer.alloc(64, 7);

describe("crun's compiled seccomp filters, kept by berth", { timeout: 10_000 }, () => {
  test('a miss gives the key; the program crun wrote is kept under it and given to the next create', async () => {
    const crun = runtimeNamed('crun');
    const first = compiledSeccomp(crun, profile, {});
    assert.ok(first && /^[0-9a-f]{64}$/.test(first.key));
    assert.equal(first.program, undefined);
    crunCreated(crun, 'c1', program);
    await keepCompiledSeccomp(crun, 'c1', first.key);
    const second = compiledSeccomp(crun, profile, {});
    assert.deepEqual(second, { key: first.key, program: program.toString('base64') });
  });

  test('another profile, or another fail-unknown-syscall setting, is another key', () => {
    const crun = runtimeNamed('crun');
    const base = compiledSeccomp(crun, profile, {})!.key;
    const other = compiledSeccomp(crun, { ...profile, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }, {})!.key;
    const failUnknown = compiledSeccomp(crun, profile, { 'run.oci.seccomp_fail_unknown_syscall': '1' })!.key;
    assert.equal(new Set([base, other, failUnknown]).size, 3);
  });

  test('nothing for another runtime, for no filter, or when the user gives a program', () => {
    assert.equal(compiledSeccomp(runtimeNamed('runc'), profile, {}), undefined);
    assert.equal(compiledSeccomp(runtimeNamed('crun'), undefined, {}), undefined);
    assert.equal(compiledSeccomp(runtimeNamed('crun'), profile, { [SECCOMP_BPF_ANNOTATION]: 'AAAAAAAAAAA=' }), undefined);
  });

  test('what is not a BPF program is neither kept nor given', async () => {
    const crun = runtimeNamed('crun');
    const key = compiledSeccomp(crun, { ...profile, defaultAction: 'SCMP_ACT_LOG' }, {})!.key;
    crunCreated(crun, 'odd', Buffer.alloc(13));
    await keepCompiledSeccomp(crun, 'odd', key);
    assert.equal(compiledSeccomp(crun, { ...profile, defaultAction: 'SCMP_ACT_LOG' }, {})!.program, undefined);
    // A file that is there but damaged is a miss, not an annotation.
    writeFileSync(join(crun.stateRoot, '..', 'seccomp-bpf', `${key}.bpf`), Buffer.alloc(0));
    assert.equal(compiledSeccomp(crun, { ...profile, defaultAction: 'SCMP_ACT_LOG' }, {})!.program, undefined);
    // No state file (a runtime that wrote none): nothing kept, no error.
    await keepCompiledSeccomp(crun, 'never-created', key);
  });

  test('the kept programs are bounded: past 64 the cache starts over', async () => {
    const crun = runtimeNamed('crun');
    crunCreated(crun, 'many', program);
    for (let i = 0; i < 70; i++) await keepCompiledSeccomp(crun, 'many', `${String(i).padStart(64, '0')}`);
    const kept = readdirSync(join(crun.stateRoot, '..', 'seccomp-bpf'));
    assert.ok(kept.length <= 64 && kept.length > 0, `${kept.length} kept`);
  });
});
