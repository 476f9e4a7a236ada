import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExecSessions, execInspectJson, parseExecConfig } from './exec-sessions.js';

describe('exec-sessions', { timeout: 10_000 }, () => {
  test('the create body as moby’s ExecConfig; no command is refused', () => {
    assert.equal(parseExecConfig({ Cmd: [] }), 'No exec command specified');
    assert.equal(parseExecConfig({}), 'No exec command specified');
    const c = parseExecConfig({
      Cmd: ['sh', '-c', 'x'],
      AttachStdout: true,
      Tty: true,
      Env: ['A=1'],
      User: 'nobody',
      WorkingDir: '/tmp',
      ConsoleSize: [30, 90],
    });
    assert.ok(typeof c !== 'string');
    assert.deepEqual(c, {
      attachStdin: false,
      attachStdout: true,
      attachStderr: false,
      tty: true,
      cmd: ['sh', '-c', 'x'],
      env: ['A=1'],
      user: 'nobody',
      workingDir: '/tmp',
      privileged: false,
      detachKeys: '',
      consoleSize: [30, 90],
    });
  });

  test('sessions by ID or unique prefix; the exit code set when finished', () => {
    const sessions = new ExecSessions();
    const config = parseExecConfig({ Cmd: ['true'] });
    assert.ok(typeof config !== 'string');
    const s = sessions.create('c'.repeat(64), config);
    assert.equal(s.id.length, 64);
    assert.equal(sessions.get(s.id), s);
    assert.equal(sessions.get(s.id.slice(0, 12)), s);
    assert.equal(sessions.get('zz'), undefined);
    assert.equal(execInspectJson(s).ExitCode, null);
    s.running = true;
    assert.equal(execInspectJson(s).Running, true);
    sessions.finished(s, 3);
    const j = execInspectJson(s);
    assert.equal(j.Running, false);
    assert.equal(j.ExitCode, 3);
    assert.deepEqual(j.ProcessConfig, { arguments: [], entrypoint: 'true', privileged: false, tty: false, user: '' });
  });
});
