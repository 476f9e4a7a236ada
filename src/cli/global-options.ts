import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { findExecutable, setRuntimeFlags } from '../engine/settings/index.js';
import { BerthError } from '../util/errors.js';
import type { GlobalOptions } from './context.js';
import { log, parseLogLevel, setLogLevel } from './log.js';

/**
 * podman's global options, as berth reads them. Scripts and podman users pass these before the
 * command; each is either given its meaning here or refused with one clear line, never ignored
 * silently where it would change what happens.
 */

const collect = (v: string, prev: string[]) => [...prev, v];

/** podman's log levels (logrus's names), in the order its error lists them. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic'];

/** The global options that take a value, as separate word or after `=`: the command's name is the first word that is none of these or their values. */
export const GLOBAL_OPTIONS_WITH_VALUE = new Set([
  '--root',
  '--runroot',
  '--log-level',
  '--storage-driver',
  '--storage-opt',
  '--runtime',
  '--runtime-flag',
  '--tmpdir',
  '--cgroup-manager',
  '--events-backend',
  '--out',
  '--default-mounts-file',
  '--url',
  '--connection',
  '-c',
]);

/** Declares the global options on the program. */
export function declareGlobalOptions(program: Command): Command {
  return program
    .option('--root <dir>', 'storage root directory (default /var/lib/berth, or BERTH_ROOT)')
    .option('--runroot <dir>', 'storage state directory (default /run/berth)')
    .option('--log-level <level>', `log messages at and above this level (${LOG_LEVELS.join(', ')})`, 'warn')
    .option('-D, --debug', "the same as --log-level=debug (docker's flag)")
    .option('--storage-driver <driver>', 'storage driver: berth stores layers with overlay only')
    .option('--storage-opt <option>', 'storage driver option: berth takes none (an empty value is accepted)', collect, [])
    .option('--runtime <runtime>', 'default OCI runtime for new containers: crun (default), runc or a path')
    .option('--runtime-flag <flag>', 'pass --FLAG to the OCI runtime before each of its commands (e.g. debug, log-format=json)', collect, [])
    .option('--tmpdir <dir>', 'accepted for podman compatibility: berth keeps temp space in the store and state under --runroot')
    .option('--cgroup-manager <manager>', 'cgroup manager: cgroupfs (berth has no systemd manager)')
    .option('--events-backend <backend>', 'where events are logged: file or none')
    .option('--noout', 'do not write anything to stdout')
    .option('--out <file>', 'send what the command writes on stdout to FILE')
    .addOption(new Option('--default-mounts-file <file>', 'default mounts file (berth adds no default mounts)').hideHelp())
    .option('--url <uri>', 'remote service URI: berth has no remote service')
    .addOption(new Option('-c, --connection <name>', 'remote connection: berth has no remote service').hideHelp())
    .option('-r, --remote', 'use a remote service: berth has no remote service');
}

/**
 * Checks the global options and applies what is process-wide: the log level, runtime flags and
 * where stdout goes. `action` is the command about to run (named in the debug log).
 */
export function applyGlobalOptions(program: Command, action?: Command): void {
  const g = program.opts<GlobalOptions>();
  startLogging(program, action);
  refuseWhatBerthCannotHonour(g);
  // podman prefixes each flag with `--` itself: `--runtime-flag debug` is crun's `--debug`.
  setRuntimeFlags(g.runtimeFlag.map((f) => `--${f}`));
  if (g.out !== undefined) redirectStdout(g.out);
  else if (g.noout) redirectStdout(undefined);
}

/** The log level of --log-level (or -D), and the first lines at info, debug and trace. */
function startLogging(program: Command, action: Command | undefined): void {
  const g = program.opts<GlobalOptions>();
  const level = parseLogLevel(g.logLevel);
  if (!level) exitBeforeLogging(`Log Level "${g.logLevel}" is not supported, choose from: ${LOG_LEVELS.join(', ')}`);
  if (g.debug && program.getOptionValueSource('logLevel') === 'cli') exitBeforeLogging('Setting --log-level and --debug is not allowed');
  setLogLevel(g.debug ? 'debug' : level);
  log('info', `berth filtering at log level ${g.debug ? 'debug' : level}`);
  if (action) log('debug', `Called ${commandPath(action)} (${process.argv.slice(2).join(' ')})`);
  log('trace', `global options: ${JSON.stringify(g)}`);
}

/** One `Error:` line for the first global option berth cannot give its podman meaning. */
function refuseWhatBerthCannotHonour(g: GlobalOptions): void {
  if (g.remote || g.url !== undefined || g.connection !== undefined) {
    throw new BerthError('USAGE', 'berth runs locally only: there is no remote service to connect to (--remote, --url, --connection)');
  }
  // overlay2 is containers/storage's other name for overlay.
  if (g.storageDriver !== undefined && g.storageDriver !== 'overlay' && g.storageDriver !== 'overlay2') {
    throw new BerthError('USAGE', `storage driver "${g.storageDriver}" is not supported: berth stores layers with overlay only`);
  }
  const storageOpts = g.storageOpt.filter((o) => o !== '');
  if (storageOpts.length > 0) {
    throw new BerthError('USAGE', `storage option "${storageOpts[0]}" is not supported: berth's overlay store takes no options`);
  }
  if (g.cgroupManager !== undefined && g.cgroupManager !== 'cgroupfs') {
    throw new BerthError(
      'USAGE',
      g.cgroupManager === 'systemd'
        ? 'cgroup manager "systemd" is not supported: berth manages cgroups with cgroupfs only'
        : `invalid cgroup manager "${g.cgroupManager}": berth supports cgroupfs`,
    );
  }
  if (g.eventsBackend !== undefined && g.eventsBackend !== 'file' && g.eventsBackend !== 'none') {
    throw new BerthError(
      'USAGE',
      g.eventsBackend === 'journald'
        ? 'events backend "journald" is not supported: berth logs events to a file (file) or not at all (none)'
        : `"${g.eventsBackend}" is not a valid events backend: choose file or none`,
    );
  }
  if (g.defaultMountsFile !== undefined && listsMounts(g.defaultMountsFile)) {
    throw new BerthError('USAGE', `berth adds no default mounts: ${g.defaultMountsFile} lists some`);
  }
  if (g.runtime !== undefined && !findExecutable(g.runtime)) {
    throw new BerthError('USAGE', `default OCI runtime "${g.runtime}" not found: invalid argument`);
  }
}

/**
 * podman checks the log level before anything else and leaves with 1 and the bare message (no
 * `Error:`: its error reporting is not set up yet); scripts and podman's tests match that line.
 */
function exitBeforeLogging(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Whether a mounts.conf-style file names any mount (a missing or blank file names none). */
function listsMounts(file: string): boolean {
  if (!existsSync(file)) return false;
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/**
 * Sends what berth itself writes on stdout to a file (or nowhere), as podman's --out and --noout
 * do: podman swaps its os.Stdout, so a child that inherits descriptor 1 (an attached
 * container's TTY) still writes to the terminal. Writes are synchronous, so none is lost at exit.
 */
function redirectStdout(file: string | undefined): void {
  let fd: number | undefined;
  if (file !== undefined) {
    try {
      fd = openSync(file, 'w', 0o644);
    } catch (e) {
      throw new BerthError('IO', `opening --out ${file}: ${(e as Error).message}`, { cause: e });
    }
    process.once('exit', () => closeSync(fd!));
  }
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (fd !== undefined) {
      const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
      writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk, enc) : (chunk as Uint8Array));
    }
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
}
