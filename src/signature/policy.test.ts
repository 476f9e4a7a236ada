import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseNormalizedNamed } from '../oci/reference.js';
import { fixture } from '../testing/fixtures.js';
import { describeScope, findPolicyFile, loadPolicy, parsePolicy, requirementsFor, type Policy, type PolicyRequirement } from './policy.js';
import { dockerImageUnderPolicy, dockerPolicyScope, pathImageUnderPolicy, pathPolicyScope, policyNamespaces } from './policy-scopes.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const expectations = JSON.parse(readFileSync(fixture('containers-image', 'policy-expectations.json'), 'utf8'));

describe('policy.json scope lookup (policy-expectations.json)', { timeout: 30_000 }, () => {
  // Each scope of the fixture gets requirements of its own, so the one chosen can be told apart.
  const marks = new Map<PolicyRequirement[], string>();
  const policy: Policy = { source: 'test', default: [{ type: 'reject' }], transports: new Map() };
  marks.set(policy.default, '/');
  for (const { transport, scope } of expectations.policyScopeLookup.scopes as { transport: string; scope: string }[]) {
    const reqs: PolicyRequirement[] = [{ type: 'reject' }];
    marks.set(reqs, `${transport}/${scope}`);
    if (!policy.transports.has(transport)) policy.transports.set(transport, new Map());
    policy.transports.get(transport)!.set(scope, reqs);
  }
  const cases = expectations.policyScopeLookup.cases as any[];
  assert.equal(cases.length, 11);
  for (const c of cases) {
    it(`${c.inputTransport}:${c.input} → ${c.matchedTransport || 'default'} ${JSON.stringify(c.matched)}`, () => {
      const scope = c.inputTransport === 'docker' ? dockerPolicyScope(parseNormalizedNamed(c.input)) : c.input;
      const m = requirementsFor(policy, { transport: c.inputTransport, scope });
      assert.equal(marks.get(m.requirements), c.matchedTransport === '' ? '/' : `${c.matchedTransport}/${c.matched}`);
    });
  }

  it('docker namespaces: repository, parents, host, then wildcard domains (port dropped)', () => {
    assert.deepEqual(policyNamespaces('docker', 'example.com:8443/ns/repo:tag'), [
      'example.com:8443/ns/repo',
      'example.com:8443/ns',
      'example.com:8443',
      '*.com',
    ]);
    assert.deepEqual(policyNamespaces('docker', 'docker.io/library/busybox@sha256:' + 'a'.repeat(64)), [
      'docker.io/library/busybox',
      'docker.io/library',
      'docker.io',
      '*.io',
    ]);
    // A reference with no tag or digest is its repository: not listed twice.
    assert.deepEqual(policyNamespaces('docker', 'quay.io/x'), ['quay.io', '*.io']);
  });

  it('path transports: dir lists its parents, oci its layout and then its parents, never "/"', () => {
    assert.deepEqual(policyNamespaces('dir', '/srv/images/app'), ['/srv/images', '/srv']);
    assert.deepEqual(policyNamespaces('oci', '/srv/layout'), ['/srv/layout', '/srv']);
    assert.deepEqual(policyNamespaces('oci-archive', '/a.tar'), ['/a.tar']);
    assert.deepEqual(policyNamespaces('docker-archive', ''), []);
    assert.equal(pathPolicyScope('/nonexistent-dir-xyz/../nonexistent-dir-xyz/img'), '/nonexistent-dir-xyz/img');
  });

  it('dockerPolicyScope keeps the tag, or the digest alone', () => {
    assert.equal(dockerPolicyScope(parseNormalizedNamed('busybox')), 'docker.io/library/busybox');
    assert.equal(dockerPolicyScope(parseNormalizedNamed('busybox:1')), 'docker.io/library/busybox:1');
    const d = 'sha256:' + 'b'.repeat(64);
    assert.equal(dockerPolicyScope(parseNormalizedNamed(`quay.io/a/b:1@${d}`)), `quay.io/a/b@${d}`);
  });

  it('images under policy: a docker reference keeps its tag as identity; a path image is scoped by its resolved path', () => {
    const d = `sha256:${'c'.repeat(64)}`;
    assert.deepEqual(dockerImageUnderPolicy(parseNormalizedNamed('busybox'), d), {
      transport: 'docker',
      scope: 'docker.io/library/busybox',
      dockerReference: 'docker.io/library/busybox',
      manifestDigest: d,
    });
    assert.deepEqual(pathImageUnderPolicy('oci', '/nonexistent-xyz/layout', d), { transport: 'oci', scope: '/nonexistent-xyz/layout', manifestDigest: d });
  });

  it('describeScope names the section as policy.json spells it', () => {
    assert.equal(describeScope({}), 'default');
    assert.equal(describeScope({ transport: 'docker', scope: 'quay.io/ns' }), 'transports.docker["quay.io/ns"]');
    assert.equal(describeScope({ transport: 'dir', scope: '' }), 'transports.dir[""]');
  });
});

describe('policy.json parsing', { timeout: 30_000 }, () => {
  it('parses the containers/image fixture policy.json into its structure', () => {
    const path = fixture('containers-image', 'signature', 'fixtures', 'policy.json');
    const p = parsePolicy(readFileSync(path, 'utf8'), path);
    assert.deepEqual(p.default, [{ type: 'reject' }]);
    assert.deepEqual([...p.transports.keys()].sort(), ['dir', 'docker']);
    assert.deepEqual(p.transports.get('dir')!.get(''), [{ type: 'insecureAcceptAnything' }]);
    const docker = p.transports.get('docker')!;
    assert.deepEqual([...docker.keys()].sort(), [
      '*.access.redhat.com',
      '*.com',
      '*.redhat.com',
      'bogus/key-data-example',
      'bogus/signed-identity-example',
      'example.com/hardened',
      'example.com/hardened-x509',
      'example.com/playground',
      'example.com/production',
      'example.com/sigstore/key-data-example',
      'example.com/sigstore/key-path-example',
      'private-mirror:5000/vendor-mirror',
      'registry.access.redhat.com',
      'registry.redhat.io/beta',
    ]);
    assert.deepEqual(docker.get('example.com/production'), [
      { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/keys/employee-gpg-keyring', signedIdentity: { type: 'matchRepoDigestOrExact' } },
    ]);
    const hardened = docker.get('example.com/hardened')!;
    assert.deepEqual(
      hardened.map((r) => r.type),
      ['signedBy', 'signedBy', 'signedBaseLayer'],
    );
    assert.deepEqual(hardened[2], {
      type: 'signedBaseLayer',
      baseLayerIdentity: { type: 'exactRepository', dockerRepository: 'registry.access.redhat.com/rhel7/rhel' },
    });
    assert.deepEqual(docker.get('registry.redhat.io/beta'), [
      {
        type: 'signedBy',
        keyType: 'GPGKeys',
        keyPaths: ['/keys/RH-production-signing-key-gpg-keyring', '/keys/RH-beta-signing-key-gpg-keyring'],
        signedIdentity: { type: 'matchRepoDigestOrExact' },
      },
    ]);
    assert.deepEqual(docker.get('private-mirror:5000/vendor-mirror')![0], {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyPath: '/keys/vendor-gpg-keyring',
      signedIdentity: { type: 'remapIdentity', prefix: 'private-mirror:5000/vendor-mirror', signedPrefix: 'vendor.example.com' },
    });
    const keyData = docker.get('bogus/key-data-example')![0] as { keyData: Uint8Array };
    assert.equal(Buffer.from(keyData.keyData).toString(), 'nonsense');
    assert.deepEqual(docker.get('example.com/sigstore/key-path-example'), [
      { type: 'sigstoreSigned', keyPath: '/keys/public-key', signedIdentity: { type: 'matchRepository' } },
    ]);
  });

  it('parses sigstoreSigned with fulcio, rekor and pki (evaluation refuses them later)', () => {
    const p = parsePolicy(
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            a: [
              {
                type: 'sigstoreSigned',
                fulcio: { caPath: '/ca', oidcIssuer: 'https://issuer', subjectEmail: 'me@example.com' },
                rekorPublicKeyPath: '/rekor.pub',
              },
            ],
            b: [{ type: 'sigstoreSigned', pki: { caRootsPath: '/roots', subjectHostname: 'example.com' } }],
            c: [{ type: 'sigstoreSigned', keyDatas: ['bm9uc2Vuc2U='], rekorPublicKeyData: 'bm9uc2Vuc2U=' }],
          },
        },
      }),
    );
    assert.equal(p.transports.get('docker')!.size, 3);
  });

  // Each invalid policy is refused with one line naming the file and the field.
  const base = (reqs: unknown) => JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'example.com': reqs } } });
  const invalid: [string, string, RegExp][] = [
    ['not JSON', '{"default": [', /^p\.json: default\[0\]: unexpected end of JSON/],
    ['trailing data', '{"default":[{"type":"reject"}]} x', /^p\.json: unexpected data after the JSON value/],
    ['not an object', '[]', /^p\.json: must be a JSON object$/],
    ['no default', '{"transports":{}}', /^p\.json: default: missing$/],
    ['empty default', '{"default":[]}', /^p\.json: default: must not be empty/],
    ['unknown top-level field', '{"default":[{"type":"reject"}],"transport":{}}', /^p\.json: transport: unknown field$/],
    ['duplicate key', '{"default":[{"type":"reject"}],"default":[{"type":"reject"}]}', /^p\.json: default: duplicate key "default"/],
    [
      'duplicate scope',
      '{"default":[{"type":"reject"}],"transports":{"docker":{"a":[{"type":"reject"}],"a":[{"type":"reject"}]}}}',
      /^p\.json: transports\.docker\.a: duplicate key "a"/,
    ],
    [
      'unknown requirement type',
      base([{ type: 'acceptAnything' }]),
      /^p\.json: transports\.docker\["example\.com"\]\[0\]\.type: unknown requirement type "acceptAnything"$/,
    ],
    ['type not a string', base([{ type: 1 }]), /\[0\]\.type: must be a string$/],
    ['extra field on reject', base([{ type: 'reject', keyPath: '/k' }]), /\[0\]\.keyPath: unknown field$/],
    ['signedBy without keyType', base([{ type: 'signedBy', keyPath: '/k' }]), /\[0\]\.keyType: missing$/],
    ['signedBy with an unknown keyType', base([{ type: 'signedBy', keyType: 'PGP', keyPath: '/k' }]), /\[0\]\.keyType: unknown keyType "PGP"/],
    ['signedBy without a key', base([{ type: 'signedBy', keyType: 'GPGKeys' }]), /\["example\.com"\]\[0\]: one of keyPath, keyPaths or keyData is required$/],
    [
      'signedBy with two keys',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', keyData: 'AAAA' }]),
      /\[0\]: only one of keyPath, keyData may be given$/,
    ],
    ['keyPath of the wrong type', base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: ['/k'] }]), /\[0\]\.keyPath: must be a string$/],
    ['keyPaths empty', base([{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: [] }]), /\[0\]\.keyPaths: must not be empty$/],
    ['keyData not base64', base([{ type: 'signedBy', keyType: 'GPGKeys', keyData: 'not base64!' }]), /\[0\]\.keyData: is not valid base64$/],
    [
      'signedIdentity unknown',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'matchAll' } }]),
      /\[0\]\.signedIdentity\.type: unknown signedIdentity type "matchAll"$/,
    ],
    [
      'exactReference without tag',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'exactReference', dockerReference: 'busybox' } }]),
      /signedIdentity\.dockerReference: "busybox" contains neither a tag nor a digest$/,
    ],
    [
      'exactReference invalid',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'exactReference', dockerReference: 'UPPER:1' } }]),
      /signedIdentity\.dockerReference: invalid reference/,
    ],
    [
      'exactRepository missing field',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'exactRepository' } }]),
      /signedIdentity\.dockerRepository: missing$/,
    ],
    [
      'remapIdentity bad prefix',
      base([
        { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'remapIdentity', prefix: 'http://x', signedPrefix: 'example.com' } },
      ]),
      /signedIdentity\.prefix: "http:\/\/x" is not a registry/,
    ],
    [
      'matchExact with extra field',
      base([{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k', signedIdentity: { type: 'matchExact', x: 1 } }]),
      /signedIdentity\.x: unknown field$/,
    ],
    ['sigstoreSigned without a key', base([{ type: 'sigstoreSigned' }]), /\[0\]: one of keyPath, keyPaths, keyData, keyDatas, fulcio or pki is required$/],
    [
      'fulcio without rekor',
      base([{ type: 'sigstoreSigned', fulcio: { caPath: '/ca', oidcIssuer: 'i', subjectEmail: 'e' } }]),
      /\[0\]\.fulcio: needs one of rekorPublicKeyPath/,
    ],
    [
      'fulcio without issuer',
      base([{ type: 'sigstoreSigned', fulcio: { caPath: '/ca', subjectEmail: 'e' }, rekorPublicKeyPath: '/r' }]),
      /\[0\]\.fulcio\.oidcIssuer: missing$/,
    ],
    [
      'pki with rekor',
      base([{ type: 'sigstoreSigned', pki: { caRootsPath: '/r', subjectEmail: 'e' }, rekorPublicKeyPath: '/r' }]),
      /\[0\]\.rekorPublicKeyPath: is not supported with pki$/,
    ],
    ['empty requirement list', base([]), /\["example\.com"\]: must not be empty/],
    ['requirements not a list', base({ type: 'reject' }), /\["example\.com"\]: must be an array of requirements$/],
    [
      'relative dir scope',
      '{"default":[{"type":"reject"}],"transports":{"dir":{"rel/path":[{"type":"reject"}]}}}',
      /^p\.json: transports\.dir\["rel\/path"\]: invalid scope: must be an absolute path$/,
    ],
    [
      '"/" as an oci scope',
      '{"default":[{"type":"reject"}],"transports":{"oci":{"/":[{"type":"reject"}]}}}',
      /transports\.oci\["\/"\]: invalid scope: use the transport's default scope ""/,
    ],
    [
      'unclean dir scope',
      '{"default":[{"type":"reject"}],"transports":{"dir":{"/a/../b":[{"type":"reject"}]}}}',
      /invalid scope: not in canonical form, perhaps \/b$/,
    ],
    [
      'docker-archive scope',
      '{"default":[{"type":"reject"}],"transports":{"docker-archive":{"/a.tar":[{"type":"reject"}]}}}',
      /invalid scope: docker-archive: does not support any scope/,
    ],
  ];
  for (const [name, text, message] of invalid) {
    it(`refuses: ${name}`, () => {
      assert.throws(
        () => parsePolicy(text, 'p.json'),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'USAGE');
          assert.match(e.message, message);
          assert.ok(!e.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('accepts unknown transports with any scope, as containers/image does', () => {
    const p = parsePolicy('{"default":[{"type":"reject"}],"transports":{"atomic":{"whatever":[{"type":"insecureAcceptAnything"}]}}}');
    assert.deepEqual(p.transports.get('atomic')!.get('whatever'), [{ type: 'insecureAcceptAnything' }]);
  });
});

describe('policy.json location', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  const system = join(dir, 'etc-policy.json');

  it('none anywhere: undefined (berth then accepts anything)', () => {
    assert.equal(findPolicyFile({ home, systemPath: system }), undefined);
    assert.equal(loadPolicy({ home, systemPath: system }), undefined);
  });

  it('the system file, then the user file over it, and --signature-policy over both', () => {
    writeFileSync(system, '{"default":[{"type":"reject"}]}');
    assert.equal(findPolicyFile({ home, systemPath: system }), system);
    const user = join(home, '.config', 'containers', 'policy.json');
    mkdirSync(join(home, '.config', 'containers'), { recursive: true });
    writeFileSync(user, '{"default":[{"type":"insecureAcceptAnything"}]}');
    assert.deepEqual(loadPolicy({ home, systemPath: system })!.default, [{ type: 'insecureAcceptAnything' }]);
    const explicit = join(dir, 'explicit.json');
    writeFileSync(explicit, '{"default":[{"type":"reject"}],"transports":{}}');
    assert.equal(loadPolicy({ signaturePolicy: explicit, home, systemPath: system })!.source, explicit);
  });

  it('a --signature-policy file that does not exist is an error', () => {
    assert.throws(() => loadPolicy({ signaturePolicy: join(dir, 'missing.json') }), /missing\.json: no such file or directory/);
  });
});
