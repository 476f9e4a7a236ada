import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerStartError } from './start-errors.js';

describe('a failed start in runc’s words', { timeout: 10_000 }, () => {
  test('a missing command, by name or by path; one that cannot be run; anything else unchanged', () => {
    const missing = 'executable file `nosuch` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found';
    assert.equal(dockerStartError(missing, 'nosuch'), `exec: "nosuch": executable file not found in $PATH: ${missing}`);
    assert.equal(dockerStartError(missing, '/bin/nosuch'), `exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory: ${missing}`);
    const denied = 'open executable: Permission denied: OCI permission denied';
    assert.equal(dockerStartError(denied, '/etc/passwd'), `exec: "/etc/passwd": permission denied: ${denied}`);
    assert.equal(dockerStartError('something else', 'sh'), 'something else');
    assert.equal(dockerStartError(missing, undefined), missing);
  });
});
