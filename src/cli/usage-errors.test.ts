import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command, CommanderError, Option } from 'commander';
import { reportUsageErrorsAsPodman } from './usage-errors.js';

/** A small tree shaped like berth's: groups, fixed and variadic arguments, flags with values. */
function program(): Command {
  const root = new Command('berth').option('--root <dir>').enablePositionalOptions();
  root.addCommand(
    new Command('ps')
      .option('-a, --all')
      .option('-n, --noheading')
      .option('--format <format>')
      .action(() => undefined),
  );
  root.addCommand(
    new Command('rename')
      .argument('<container>')
      .argument('<name>')
      .action(() => undefined),
  );
  root.addCommand(new Command('images').argument('[image]').action(() => undefined));
  root.addCommand(new Command('pull').argument('<names...>').action(() => undefined));
  root.addCommand(
    new Command('kill')
      .argument('[containers...]')
      .option('-a, --all')
      .option('-s, --signal <signal>')
      .action(() => undefined),
  );
  root.addCommand(
    new Command('sync')
      .argument('<source>')
      .requiredOption('--src <kind>')
      .action(() => undefined),
  );
  root.addCommand(
    new Command('inspect')
      .argument('<names...>')
      .addOption(new Option('-t, --type <type>').choices(['all', 'image']))
      .action(() => undefined),
  );
  const container = new Command('container');
  container.addCommand(new Command('ps').option('-a, --all').action(() => undefined));
  container.addCommand(new Command('pause').action(() => undefined));
  root.addCommand(container);
  return root;
}

/** Help text goes through commander's own writers, not the error path: kept off the test's output. */
function quiet(cmd: Command): void {
  cmd.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.commands.forEach(quiet);
}

/** What berth prints on stderr for these words, which commander must refuse. */
async function usage(...argv: string[]): Promise<string> {
  const root = program();
  let out = '';
  quiet(root);
  reportUsageErrorsAsPodman(root, argv, (t) => (out += t));
  await assert.rejects(root.parseAsync(argv, { from: 'user' }), (e) => e instanceof CommanderError && e.exitCode !== 0);
  return out;
}

describe("usage errors in podman's (cobra's) words", { timeout: 10_000 }, () => {
  test('unknown flags, long and short, name the command to ask for help', async () => {
    assert.equal(await usage('--x'), "Error: unknown flag: --x\nSee 'berth --help'\n");
    assert.equal(await usage('ps', '--x'), "Error: unknown flag: --x\nSee 'berth ps --help'\n");
    assert.equal(await usage('ps', '--x=1'), "Error: unknown flag: --x\nSee 'berth ps --help'\n");
    assert.equal(await usage('ps', '-X'), "Error: unknown shorthand flag: 'X' in -X\nSee 'berth ps --help'\n");
    assert.equal(await usage('container', 'ps', '--bogus'), "Error: unknown flag: --bogus\nSee 'berth container ps --help'\n");
    assert.equal(
      await usage('ps', '--noheading=maybe'),
      'Error: invalid argument "maybe" for "--noheading" flag: the flag takes no value\nSee \'berth ps --help\'\n',
    );
  });

  test('a flag without its value, as it was typed', async () => {
    assert.equal(await usage('ps', '--format'), "Error: flag needs an argument: --format\nSee 'berth ps --help'\n");
    assert.equal(await usage('kill', '-s'), "Error: flag needs an argument: 's' in -s\nSee 'berth kill --help'\n");
    assert.equal(await usage('kill', '--signal'), "Error: flag needs an argument: --signal\nSee 'berth kill --help'\n");
    assert.equal(await usage('kill', '-as'), "Error: flag needs an argument: 's' in -as\nSee 'berth kill --help'\n");
  });

  test('unknown commands, with suggestions as cobra lists them', async () => {
    assert.equal(await usage('foo'), "Error: unrecognized command `berth foo`\nTry 'berth --help' for more information\n");
    assert.equal(await usage('container', 'foo'), "Error: unrecognized command `berth container foo`\nTry 'berth container --help' for more information\n");
    // cobra reads the flags first: a bad flag after an unknown word is what it reports.
    assert.equal(await usage('bad', '--invalid'), "Error: unknown flag: --invalid\nSee 'berth --help'\n");
    assert.equal(await usage('bad', '--root', 'x'), "Error: unrecognized command `berth bad`\nTry 'berth --help' for more information\n");
    assert.equal(
      await usage('contaner'),
      "Error: unrecognized command `berth contaner`\n\nDid you mean this?\n\tcontainer\n\nTry 'berth --help' for more information\n",
    );
  });

  test('a group without its command', async () => {
    assert.equal(await usage('container'), "Error: missing command 'berth container COMMAND'\n");
    assert.equal(await usage(), "Error: missing command 'berth COMMAND'\n");
  });

  test("the number of arguments, as cobra's validators say it", async () => {
    assert.equal(await usage('images', 'a', 'b'), 'Error: accepts at most 1 arg(s), received 2\n');
    assert.equal(await usage('rename', 'a'), 'Error: accepts 2 arg(s), received 1\n');
    assert.equal(await usage('rename', 'a', 'b', 'c'), 'Error: accepts 2 arg(s), received 3\n');
    assert.equal(await usage('pull'), 'Error: requires at least 1 arg(s), only received 0\n');
    assert.equal(await usage('ps', 'x'), 'Error: `berth ps` takes no arguments\n');
    assert.equal(await usage('container', 'pause', 'x'), 'Error: `berth container pause` takes no arguments\n');
  });

  test('bad choices and required flags', async () => {
    assert.equal(
      await usage('inspect', '--type', 'x', 'a'),
      'Error: invalid argument "x" for "--type" flag: allowed choices are all, image\nSee \'berth inspect --help\'\n',
    );
    assert.equal(await usage('sync', 'a'), 'Error: required flag(s) "src" not set\n');
  });

  test('help is no error and prints nothing on the error path', async () => {
    const root = program();
    let out = '';
    quiet(root);
    reportUsageErrorsAsPodman(root, ['ps', '--help'], (t) => (out += t));
    await assert.rejects(root.parseAsync(['ps', '--help'], { from: 'user' }), (e) => e instanceof CommanderError && e.exitCode === 0);
    assert.equal(out, '');
  });
});
