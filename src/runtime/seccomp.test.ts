import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.js';
import { convertProfile } from './seccomp.js';

type Profile = Parameters<typeof convertProfile>[0];
const podmanProfile = () => JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8')) as Profile;
const names = (p: ReturnType<typeof convertProfile>, action: string) => new Set(p.syscalls!.filter((s) => s.action === action).flatMap((s) => s.names));

describe('convertProfile', () => {
  test("podman's profile for the default capabilities: chroot allowed, module loading and bpf refused", () => {
    const out = convertProfile(podmanProfile(), { capabilities: DEFAULT_CAPABILITIES, arch: 'x64', kernel: '6.1.0' });
    assert.equal(out.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(out.defaultErrnoRet, 38);
    assert.deepEqual(out.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const allowed = names(out, 'SCMP_ACT_ALLOW');
    const refused = names(out, 'SCMP_ACT_ERRNO');
    assert.ok(allowed.has('chroot') && allowed.has('arch_prctl') && allowed.has('read'));
    assert.ok(!allowed.has('init_module') && refused.has('init_module'));
    assert.ok(!allowed.has('bpf') && refused.has('bpf'));
    // arm-only calls are not in an x86-64 filter.
    assert.ok(!allowed.has('arm_fadvise64_64'));
    for (const s of out.syscalls!)
      assert.deepEqual(
        Object.keys(s).filter((k) => !['names', 'action', 'errnoRet', 'args'].includes(k)),
        [],
      );
  });

  test('capability rules follow the container: SYS_ADMIN adds mount-family calls, dropping SYS_CHROOT refuses chroot', () => {
    const admin = convertProfile(podmanProfile(), { capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], arch: 'x64' });
    assert.ok(names(admin, 'SCMP_ACT_ALLOW').has('bpf'));
    const noChroot = convertProfile(podmanProfile(), { capabilities: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'), arch: 'x64' });
    assert.ok(!names(noChroot, 'SCMP_ACT_ALLOW').has('chroot'));
    const all = convertProfile(podmanProfile(), { capabilities: ALL_CAPABILITIES, arch: 'arm64' });
    assert.deepEqual(all.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.ok(names(all, 'SCMP_ACT_ALLOW').has('arm_fadvise64_64'));
  });

  test('minKernel and an already-OCI profile with `name` rules', () => {
    const profile: Profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { name: 'mkdirat', action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['newcall'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.5' } },
      ],
    };
    const old = convertProfile(profile, { capabilities: [], kernel: '6.1.12-amd64' });
    assert.deepEqual(old, {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    assert.equal(convertProfile(profile, { capabilities: [], kernel: '6.18.44' }).syscalls!.length, 2);
  });
});
