import assert from 'node:assert/strict';
import { it } from 'node:test';
import { goYaml } from './_yaml.js';

it("prints YAML as podman info does: sorted keys, lists at their key's indent, quoting only where needed, |- blocks", { timeout: 5_000 }, () => {
  const out = goYaml({
    store: { imageStore: { number: 1 }, graphOptions: {}, graphRoot: '/var/lib/berth' },
    host: {
      cpus: 2,
      cpuUtilization: { userPercent: 1.5 },
      cgroupControllers: ['cpu', 'memory'],
      conmon: { version: 'conmon version 2.1.6, commit: unknown' },
      distribution: { version: '12', codename: 'bookworm' },
      idMappings: { gidmap: null },
      ociRuntime: { version: 'crun version 1.8.1\nspec: 1.0.0' },
      empty: '',
      rootless: false,
    },
  });
  assert.equal(
    out,
    [
      'host:',
      '  cgroupControllers:',
      '  - cpu',
      '  - memory',
      '  conmon:',
      "    version: 'conmon version 2.1.6, commit: unknown'",
      '  cpuUtilization:',
      '    userPercent: 1.5',
      '  cpus: 2',
      '  distribution:',
      '    codename: bookworm',
      '    version: "12"',
      '  empty: ""',
      '  idMappings:',
      '    gidmap: null',
      '  ociRuntime:',
      '    version: |-',
      '      crun version 1.8.1',
      '      spec: 1.0.0',
      '  rootless: false',
      'store:',
      '  graphOptions: {}',
      '  graphRoot: /var/lib/berth',
      '  imageStore:',
      '    number: 1',
      '',
    ].join('\n'),
  );
  assert.equal(goYaml({ a: 'true', b: "it's: here", c: '- x', d: 'plain, with comma' }), `a: "true"\nb: 'it''s: here'\nc: '- x'\nd: plain, with comma\n`);
});
