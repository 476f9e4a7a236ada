import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];
const CONTENT = 'topsecret-7f3a';

describe('berth secret and run --secret', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let file = '';
  before(async () => {
    env = await containerEnv();
    file = join(env.dir, 'secret.txt');
    writeFileSync(file, CONTENT);
  });
  after(() => env?.cleanup());

  it('create, ls, inspect and rm, as podman prints them', async () => {
    const id = (await env.ok(['secret', 'create', '--label', 'team=a', 'one', file])).stdout.trim();
    assert.match(id, /^[0-9a-f]{25}$/);
    // Kept 0600 in the store, under its ID; never in a blob.
    const data = join(env.root, 'secrets', 'data', id);
    assert.equal(statSync(data).mode & 0o777, 0o600);
    const dup = await env.berth(['secret', 'create', 'one', file]);
    assert.equal(dup.code, 125);
    assert.equal(dup.stderr, 'Error: one: secret name in use\n');
    const replaced = (await env.ok(['secret', 'create', '--replace', 'one', file])).stdout.trim();
    assert.notEqual(replaced, id);
    assert.deepEqual(readdirSync(join(env.root, 'secrets', 'data')), [replaced]);
    await env.ok(['secret', 'create', 'two', '-'], { input: 'from stdin' });
    const bad = await env.berth(['secret', 'create', 'bad/name', file]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /bad\/name: invalid secret name/);

    const ls = await env.ok(['secret', 'ls']);
    assert.match(ls.stdout, /^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED\n/);
    assert.equal((await env.ok(['secret', 'ls', '--filter', 'name=two', '--format', '{{.Name}} {{.Driver}}'])).stdout, 'two file\n');
    assert.equal((await env.ok(['secret', 'ls', '-q', '--filter', 'name=one'])).stdout, `${replaced}\n`);
    const inspect = JSON.parse((await env.ok(['secret', 'inspect', 'one'])).stdout) as {
      ID: string;
      Spec: { Name: string; Labels: Record<string, string> };
      SecretData?: string;
    }[];
    assert.equal(inspect[0]!.ID, replaced);
    assert.deepEqual(inspect[0]!.Spec.Labels, {});
    assert.equal(inspect[0]!.SecretData, undefined);
    assert.equal((await env.ok(['secret', 'inspect', '--showsecret', '--format', '{{.SecretData}}', 'two'])).stdout, 'from stdin\n');
    const missing = await env.berth(['secret', 'inspect', 'nope']);
    assert.equal(missing.code, 125);
    assert.equal(missing.stderr, 'Error: inspecting secret: no secret with name or id "nope": no such secret\n');

    assert.equal((await env.ok(['secret', 'rm', 'two'])).stdout.length, 26);
    const gone = await env.berth(['secret', 'rm', 'two']);
    assert.equal(gone.code, 125);
    assert.equal(gone.stderr, 'Error: no secret with name or id "two": no such secret\n');
    await env.ok(['secret', 'rm', '-a']);
    assert.equal((await env.ok(['secret', 'ls', '--noheading'])).stdout, '');
    assert.deepEqual(readdirSync(join(env.root, 'secrets', 'data')), []);
  });

  it('run --secret mounts it read-only at /run/secrets/NAME, or a target, or sets it in the environment', async () => {
    await env.ok(['secret', 'create', 'S', file]);
    const r = await env.ok(['run', '--rm', '--secret', 'S', ...NONE, 'busybox', 'cat', '/run/secrets/S']);
    assert.equal(r.stdout, CONTENT);
    const write = await env.berth(['run', '--rm', '--secret', 'S', ...NONE, 'busybox', 'sh', '-c', 'echo x > /run/secrets/S']);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    const owned = await env.ok([
      'run',
      '--rm',
      '--secret',
      'S,target=/etc/key,mode=0400,uid=5,gid=6',
      ...NONE,
      'busybox',
      'sh',
      '-c',
      'stat -c "%a %u %g" /etc/key; cat /etc/key',
    ]);
    assert.equal(owned.stdout, `400 5 6\n${CONTENT}`);
    assert.equal((await env.ok(['run', '--rm', '--secret', 'S,target=renamed', ...NONE, 'busybox', 'cat', '/run/secrets/renamed'])).stdout, CONTENT);
    assert.equal((await env.ok(['run', '--rm', '--secret', 'S,type=env', ...NONE, 'busybox', 'sh', '-c', 'echo "$S"'])).stdout, `${CONTENT}\n`);
    assert.equal((await env.ok(['run', '--rm', '--secret', 'S,type=env,target=KEY', ...NONE, 'busybox', 'sh', '-c', 'echo "$KEY"'])).stdout, `${CONTENT}\n`);
    for (const [spec, message] of [
      ['nope', 'no secret with name or id "nope": no such secret'],
      ['S,foo=bar', 'option foo=bar invalid: parsing secret'],
      ['S,type=env,mode=0400', 'UID, GID, Mode options cannot be set with secret type env: parsing secret'],
    ] as const) {
      const failed = await env.berth(['run', '--rm', '--secret', spec, ...NONE, 'busybox', 'true']);
      assert.equal(failed.code, 125);
      assert.equal(failed.stderr, `Error: ${message}\n`);
    }
  });

  it('a container keeps its copy after the secret is removed; inspect shows no env secret; commit does not capture it', async () => {
    await env.ok(['secret', 'create', 'C', file]);
    await env.ok([
      'create',
      '--name',
      'holder',
      '--secret',
      'C',
      '--secret',
      'C,type=env,target=CVAR',
      ...NONE,
      'busybox',
      'sh',
      '-c',
      'cat /run/secrets/C; echo; echo "$CVAR"; echo made > /newfile',
    ]);
    await env.ok(['secret', 'rm', 'C']);
    assert.equal((await env.ok(['start', '-a', 'holder'])).stdout, `${CONTENT}\n${CONTENT}\n`);
    assert.doesNotMatch((await env.ok(['inspect', 'holder'])).stdout, new RegExp(CONTENT));
    await env.ok(['commit', '-q', 'holder', 'withsecret']);
    const fromImage = await env.ok(['run', '--rm', ...NONE, 'withsecret', 'sh', '-c', 'cat /newfile; cat /run/secrets/C 2>/dev/null; echo "[$CVAR]"']);
    assert.equal(fromImage.stdout, 'made\n[]\n');
    const saved = join(env.dir, 'withsecret.tar');
    await env.ok(['save', '-o', saved, 'withsecret']);
    assert.ok(!readFileSync(saved).includes(CONTENT), 'the saved image holds no secret bytes');
    await env.ok(['rm', 'holder']);
  });
});
