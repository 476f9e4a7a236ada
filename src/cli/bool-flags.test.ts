import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { normalizePflagSyntax } from './bool-flags.js';

/** A program shaped like berth's: global flags, a command with booleans, a pass-through `run`. */
function program(): Command {
  const p = new Command('berth').option('--root <dir>').option('--noout').enablePositionalOptions();
  p.addCommand(new Command('cp').argument('<src>').argument('<dest>').option('-a, --archive', 'keep owners', true));
  p.addCommand(new Command('images').argument('[image]').option('-n, --noheading').option('--no-trunc').option('--format <format>').option('-q, --quiet'));
  p.addCommand(
    new Command('run')
      .passThroughOptions()
      .argument('<image>')
      .argument('[command...]')
      .option('--rm')
      .option('-i, --interactive')
      .option('-t, --tty')
      .option('--name <name>')
      .option('--tls-verify [bool]'),
  );
  const image = new Command('image');
  image.addCommand(new Command('history').argument('<image>').option('-H, --human').option('--no-human'));
  p.addCommand(image);
  return p;
}

function parsed(args: string[]): { cmd: Command; opts: Record<string, unknown>; args: string[] } {
  const p = program().exitOverride();
  let result: { cmd: Command; opts: Record<string, unknown>; args: string[] } | undefined;
  const capture = (cmd: Command) => () => {
    result = { cmd, opts: cmd.opts(), args: cmd.args };
  };
  for (const c of p.commands) {
    c.action(capture(c));
    for (const s of c.commands) s.action(capture(s));
  }
  p.parse(normalizePflagSyntax(p, args), { from: 'user' });
  return result!;
}

describe('normalizePflagSyntax', { timeout: 10_000 }, () => {
  it('turns --x=true into --x and --x=false into --no-x', () => {
    const p = program();
    assert.deepEqual(normalizePflagSyntax(p, ['images', '--noheading=true', '--quiet=false']), ['images', '--noheading', '--no-quiet']);
  });

  it('gives the value pflag gives, the last flag winning', () => {
    assert.equal(parsed(['images', '--noheading=false']).opts.noheading, false);
    assert.equal(parsed(['images', '--noheading=true']).opts.noheading, true);
    assert.equal(parsed(['images', '-n', '--noheading=false']).opts.noheading, false);
    assert.equal(parsed(['images', '--noheading=false', '-n']).opts.noheading, true);
    assert.equal(parsed(['run', '--rm=false', 'img']).opts.rm, false);
    assert.equal(parsed(['run', '--rm', '--rm=false', 'img']).opts.rm, false);
  });

  it('reads short flags: -i=false, -t=true', () => {
    const r = parsed(['run', '-i=false', '-t=true', 'img']);
    assert.equal(r.opts.interactive, false);
    assert.equal(r.opts.tty, true);
  });

  it('turns a negated flag off by leaving it out: --no-trunc=false keeps truncation', () => {
    assert.equal(parsed(['images', '--no-trunc=false']).opts.trunc, true);
    assert.equal(parsed(['images', '--no-trunc=true']).opts.trunc, false);
  });

  it('turns off a flag whose default is true (cp -a=false)', () => {
    assert.equal(parsed(['cp', '-a=false', 'a', 'b']).opts.archive, false);
    assert.equal(parsed(['cp', 'a', 'b']).opts.archive, true);
    assert.equal(parsed(['cp', '--archive=true', 'a', 'b']).opts.archive, true);
  });

  it('walks into a command group', () => {
    assert.equal(parsed(['image', 'history', '--human=false', 'img']).opts.human, false);
    assert.equal(parsed(['image', 'history', '--human=true', 'img']).opts.human, true);
  });

  it('reads global flags before the command', () => {
    const p = program();
    assert.deepEqual(normalizePflagSyntax(p, ['--root', '/r', '--noout=true', 'images']), ['--root', '/r', '--noout', 'images']);
  });

  it('leaves the container command, values, flags with values of their own and unknown flags alone', () => {
    const p = program();
    assert.deepEqual(normalizePflagSyntax(p, ['run', '--rm=true', 'img', 'echo', '--rm=false', '-i=false']), [
      'run',
      '--rm',
      'img',
      'echo',
      '--rm=false',
      '-i=false',
    ]);
    assert.deepEqual(normalizePflagSyntax(p, ['run', '--name', '--rm=false', 'img']), ['run', '--name', '--rm=false', 'img']);
    assert.deepEqual(normalizePflagSyntax(p, ['run', '--tls-verify=false', 'img']), ['run', '--tls-verify=false', 'img']);
    assert.deepEqual(normalizePflagSyntax(p, ['images', '--format=false', '--bogus=false', '--', '-n=true']), [
      'images',
      '--format=false',
      '--bogus=false',
      '--',
      '-n=true',
    ]);
    assert.deepEqual(normalizePflagSyntax(p, ['images', '--noheading=maybe']), ['images', '--noheading=maybe']);
  });

  it("splits a short flag's -s=VALUE as pflag reads it (kill -s=TERM), and leaves the container's alone", () => {
    const p = program();
    p.addCommand(new Command('kill').argument('<name>').option('-s, --signal <signal>'));
    assert.deepEqual(normalizePflagSyntax(p, ['kill', '-s=TERM', 'c']), ['kill', '-s', 'TERM', 'c']);
    assert.deepEqual(normalizePflagSyntax(p, ['kill', '-s=', 'c']), ['kill', '-s', '', 'c']);
    assert.deepEqual(normalizePflagSyntax(p, ['kill', '--signal=TERM', 'c']), ['kill', '--signal=TERM', 'c']);
    assert.deepEqual(normalizePflagSyntax(p, ['run', 'img', 'kill', '-s=TERM']), ['run', 'img', 'kill', '-s=TERM']);
  });
});
