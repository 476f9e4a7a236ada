import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attachedStreams, refuseCreateAttach, refuseUnsupported } from './_create-refusals.js';

describe('run/create: flags berth cannot honour', { timeout: 10_000 }, () => {
  test('each fails in one line naming the flag; their harmless values pass', () => {
    assert.throws(() => refuseUnsupported({ passwd: true }, []), /--passwd is not supported/);
    assert.throws(() => refuseUnsupported({ systemd: 'true' }, ['/sbin/init']), /--systemd true is not supported/);
    assert.throws(() => refuseUnsupported({ systemd: 'maybe' }, []), /invalid --systemd "maybe"/);
    assert.throws(() => refuseUnsupported({ logDriver: 'passthrough' }, []), /--log-driver passthrough is not supported/);
    assert.throws(() => refuseUnsupported({ logDriver: 'bogus' }, []), /invalid log driver: bogus/);
    assert.throws(() => refuseUnsupported({ cgroups: 'split' }, []), /--cgroups split is not supported/);
    assert.throws(() => refuseUnsupported({ seccompPolicy: 'image' }, []), /--seccomp-policy image is not supported/);
    for (const ok of [
      {},
      { passwd: 'false' },
      { systemd: 'true' },
      { systemd: 'false' },
      { logDriver: 'k8s-file' },
      { logDriver: 'json-file' },
      { logDriver: 'none' },
      { cgroups: 'enabled' },
      { seccompPolicy: 'default' },
      { sdnotify: 'ignore' },
      { publish: [] },
    ])
      refuseUnsupported(ok, ['sh']);
  });

  test('--attach: the streams named, any of the three, in any case and comma-separated', () => {
    assert.equal(attachedStreams({}), undefined);
    assert.deepEqual([...attachedStreams({ attach: ['STDIN,stdout', 'stderr'] })!].sort(), ['stderr', 'stdin', 'stdout']);
    assert.deepEqual([...attachedStreams({ attach: ['stderr'] })!], ['stderr']);
    refuseUnsupported({ attach: ['stderr'] }, []);
    assert.throws(() => refuseUnsupported({ attach: ['stdnone'] }, []), /invalid stream "stdnone" for --attach/);
  });

  test('create --attach: only the set start -a attaches', () => {
    refuseCreateAttach({});
    refuseCreateAttach({ attach: ['stdout', 'stderr'] });
    refuseCreateAttach({ attach: ['STDIN,stdout', 'stderr'], interactive: true });
    assert.throws(() => refuseCreateAttach({ attach: ['stdout'] }), /--attach stdout is not supported by create/);
  });
});
