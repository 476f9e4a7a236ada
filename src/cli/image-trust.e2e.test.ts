import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berth, hasCommand, podmanArgs, run, tempDir } from '../testing/cli.js';
import { fixture } from '../testing/fixtures.js';

const FIXTURES = ['containers-image', 'signature', 'fixtures'] as const;

describe('image trust show|set', { timeout: 180_000 }, () => {
  const t = tempDir('berth-trust-');
  after(() => t.cleanup());
  const root = join(t.path, 'root');
  const podman = (args: string[]) => run('podman', [...podmanArgs(t.path), ...args]);
  const withPodman = hasCommand('podman');
  const copy = (name: string) => {
    const path = join(t.path, name);
    copyFileSync(fixture(...FIXTURES, 'policy.json'), path);
    chmodSync(path, 0o644);
    return path;
  };

  it("show: podman's table, --json and --raw for the containers/image fixture policy", async () => {
    const policy = copy('show.json');
    const table = await berth(root, ['image', 'trust', 'show', '--policypath', policy]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^TRANSPORT +NAME +TYPE +ID +STORE$/);
    assert.match(lines[1]!, /^all +default +reject +$/);
    assert.match(lines[2]!, /^dir +accept +$/);
    assert.ok(lines.some((l) => /^repository +example\.com\/sigstore\/key-path-example +sigstoreSigned +N\/A +$/.test(l)));
    const json = JSON.parse((await berth(root, ['image', 'trust', 'show', '--policypath', policy, '--json'])).stdout);
    assert.deepEqual(json[0], { transport: 'all', name: '* (default)', repo_name: 'default', type: 'reject' });
    assert.deepEqual(json[1], { transport: 'dir', type: 'accept' });
    const raw = await berth(root, ['image', 'trust', 'show', '--policypath', policy, '--raw']);
    assert.equal(raw.stdout, `${readFileSync(policy, 'utf8')}\n`);
    const one = await berth(root, ['image', 'trust', 'show', '--policypath', policy, '-n', 'example.com/playground']);
    assert.match(one.stdout, /^repository +example\.com\/playground +accept +\n$/);
    if (withPodman) {
      // The fixture's key paths do not exist, so neither tool shows an ID: the outputs must be identical.
      for (const flags of [[], ['--json'], ['--raw'], ['-n']]) {
        const b = await berth(root, ['image', 'trust', 'show', '--policypath', policy, ...flags]);
        const p = await podman(['image', 'trust', 'show', '--policypath', policy, ...flags]);
        assert.equal(b.stdout, p.stdout, `show ${flags.join(' ')}`);
      }
    }
  });

  it('show: the ID column names the key, the STORE column the lookaside of registries.d', async () => {
    const policy = join(t.path, 'ids.json');
    const key = fixture(...FIXTURES, 'public-key.gpg');
    writeFileSync(
      policy,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: { docker: { 'registry.example/team': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key }] } },
      }),
    );
    const regd = join(t.path, 'registries.d');
    mkdirSync(regd, { recursive: true });
    writeFileSync(join(regd, 'team.yaml'), 'docker:\n  registry.example:\n    lookaside: file:///var/lib/sigs\n');
    const r = await berth(root, ['image', 'trust', 'show', '--policypath', policy, '--registrypath', regd]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nrepository +registry\.example\/team +signed +skopeo testing key +file:\/\/\/var\/lib\/sigs\n/);
  });

  it("set: edits policy.json as podman does, byte for byte, keeping the file's mode", async () => {
    const mine = copy('set-berth.json');
    const theirs = copy('set-podman.json');
    chmodSync(mine, 0o640);
    const key = fixture(...FIXTURES, 'public-key.gpg');
    const cosign = fixture(...FIXTURES, 'cosign.pub');
    const edits = [
      ['-t', 'reject', 'example.com/playground'],
      ['-t', 'accept', 'quay.io'],
      ['-f', key, 'registry.example/team'],
      ['--type', 'sigstoreSigned', '--pubkeysfile', cosign, 'example.com/sigstore/key-path-example'],
      ['-t', 'accept', 'default'],
    ];
    for (const edit of edits) {
      const r = await berth(root, ['image', 'trust', 'set', '--policypath', mine, ...edit]);
      assert.equal(r.code, 0, r.stderr);
      if (withPodman) assert.equal((await podman(['image', 'trust', 'set', '--policypath', theirs, ...edit])).code, 0);
    }
    const written = JSON.parse(readFileSync(mine, 'utf8'));
    assert.deepEqual(written.default, [{ type: 'insecureAcceptAnything' }]);
    assert.deepEqual(written.transports.docker['example.com/playground'], [{ type: 'reject' }]);
    assert.deepEqual(written.transports.docker['registry.example/team'], [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key }]);
    assert.deepEqual(written.transports.dir, { '': [{ type: 'insecureAcceptAnything' }] }, 'the rest of the file is kept');
    assert.equal(statSync(mine).mode & 0o777, 0o640);
    if (withPodman) assert.equal(readFileSync(mine, 'utf8'), readFileSync(theirs, 'utf8'));
    // The result is a policy berth itself accepts: show reads it back.
    assert.equal((await berth(root, ['image', 'trust', 'show', '--policypath', mine])).code, 0);
  });

  it('set: a new file needs the default first; refusals are one Error: line and exit 125, as podman', async () => {
    const fresh = join(t.path, 'fresh.json');
    const refusals: [string[], string][] = [
      [['-t', 'accept', 'quay.io'], 'Error: default trust policy must be set'],
      [['-t', 'bogus', 'default'], "Error: invalid choice: bogus (choose from 'accept', 'reject', 'signedBy', 'sigstoreSigned')"],
      [['default'], "Error: at least one public key must be defined for type 'signedBy'"],
      [['-t', 'reject', '-f', fixture(...FIXTURES, 'public-key.gpg'), 'default'], 'Error: 1 public keys unexpectedly provided for trust type reject'],
    ];
    for (const [args, line] of refusals) {
      const r = await berth(root, ['image', 'trust', 'set', '--policypath', fresh, ...args]);
      assert.equal(r.code, 125, args.join(' '));
      assert.equal(r.stderr, `${line}\n`);
      if (withPodman) {
        const p = await podman(['image', 'trust', 'set', '--policypath', join(t.path, 'fresh-podman.json'), ...args]);
        assert.equal(p.code, 125);
        assert.equal(p.stderr.trim().split('\n').at(-1), line);
      }
    }
    assert.equal((await berth(root, ['image', 'trust', 'set', '--policypath', fresh, '-t', 'reject', 'default'])).code, 0);
    assert.equal(readFileSync(fresh, 'utf8'), '{\n    "default": [\n        {\n            "type": "reject"\n        }\n    ]\n}');
    const bad = await berth(root, ['image', 'trust', 'set', '--policypath', fresh, '-f', join(t.path, 'no-such.gpg'), 'quay.io']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: public key file .*no-such\.gpg: no such file\n$/);
  });
});
