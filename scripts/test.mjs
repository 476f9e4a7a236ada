// Runs every compiled *.test.js under dist/lib with node's test runner (Node 20 takes no globs), or
// those whose path contains one of the arguments. Unit files run two at a time; end-to-end files
// (*.e2e.test.js) that drive podman, skopeo or mounts run one at a time so they do not compete for
// the machine.
//
// Nothing a test does may hold the run up: each file runs as its own `node --test` in a process
// group (a session) of its own, with a timeout, and when it ends, or overruns, the group and every
// process that carries the file's BERTH_TEST_RUN mark in its environment (what escaped the group
// with setsid: conmon, a registry, a `zstd -d` started by one) are killed. A watchdog bounds the run.
// Timeouts can be given in seconds: BERTH_TEST_FILE_TIMEOUT (per file), BERTH_TEST_DEADLINE (the run).
// `--check-fixtures` only checks that the shared fixtures are there.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();

// Node 20's --test-timeout applies to each test file as a whole (it runs in a child process), not to
// each test in it. On a busy 2-core machine a unit file took at most 15 s (all 58: about a minute),
// so 5 minutes is only ever reached by a hang. An end-to-end file took 1 to 2 minutes; their suites
// allow themselves 5 or 10 minutes, and a file may hold more than one suite.
const UNIT_FILE_TIMEOUT_MS = 5 * 60_000;
const E2E_FILE_TIMEOUT_MS = 15 * 60_000;
/**
 * After its timeout node reports a file's unfinished tests as cancelled and ends it, unless a process
 * it started still holds its output open (then node waits for it forever): this long (or the timeout,
 * when shorter), then it is killed.
 */
const GRACE_MS = 30_000;
/** The whole run: below CI's 90 minutes, so that a run that overruns still says what was running. */
const DEADLINE_MS = 80 * 60_000;

const MARK = 'BERTH_TEST_RUN';

function seconds(name, fallbackMs) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallbackMs;
  const n = Number(v);
  if (!(n > 0)) fail(`${name} must be a number of seconds, not ${JSON.stringify(v)}`);
  return n * 1000;
}

function fail(message) {
  console.error(`Error: ${message}`);
  process.exit(2);
}

// Tests read ../shared (test images, Dockerfiles, schemas); without it most would fail one by one.
// The same place src/testing/fixtures.ts reads.
const fixtures = process.env.BERTH_FIXTURES || join(repoRoot, '..', 'shared', 'fixtures');
if (!existsSync(fixtures)) {
  fail(`test fixtures not found at ${fixtures}: check out the shared repository beside this one as ../shared, or set BERTH_FIXTURES`);
}
// `npm test` checks this much before it builds (a minute), so that it stops at once.
if (process.argv[2] === '--check-fixtures') process.exit(0);
const distLib = join(repoRoot, 'dist', 'lib');
if (!existsSync(distLib)) fail(`${relative(process.cwd(), distLib) || distLib} not found: build first (npm run build)`);

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const fileTimeout = { unit: seconds('BERTH_TEST_FILE_TIMEOUT', UNIT_FILE_TIMEOUT_MS), e2e: seconds('BERTH_TEST_FILE_TIMEOUT', E2E_FILE_TIMEOUT_MS) };
const filter = process.argv.slice(2);
const files = find(distLib)
  .map((f) => relative(process.cwd(), f))
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) fail(`no test files under ${relative(process.cwd(), distLib)} match ${filter.join(', ')}`);
const unit = files.filter((f) => !f.endsWith('.e2e.test.js'));
const e2e = files.filter((f) => f.endsWith('.e2e.test.js'));

/** Test files running now: their child process and mark. */
const running = new Set();
let runs = 0;

/** SIGKILL to every process whose environment carries `BERTH_TEST_RUN=<mark>`. */
function killMarked(mark) {
  const needle = `\0${MARK}=${mark}\0`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let env;
    try {
      env = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    if (`\0${env}`.includes(needle)) {
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/** Kills a file's process group and whatever escaped it; twice, for what forked in between. */
function killAll({ child, mark }) {
  for (let i = 0; i < 2; i++) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is empty
    }
    killMarked(mark);
  }
}

/**
 * Runs one test file; resolves with whether it passed. `buffered` collects its output and prints it
 * whole at the end, so that files run side by side do not interleave.
 */
function runFile(file, timeoutMs, buffered) {
  return new Promise((resolvePassed) => {
    const mark = `${process.pid}-${++runs}`;
    const args = ['--test', `--test-timeout=${timeoutMs}`, '--test-reporter=spec', file];
    // Always piped, so each file's counts can be read from its summary; shown live unless buffered.
    const io = 'pipe';
    // NODE_TEST_CONTEXT (set when this runs inside a test) would make node --test run the file as its child, not its runner.
    const env = { ...process.env, NODE_TEST_CONTEXT: undefined, [MARK]: mark };
    const child = spawn(process.execPath, args, { stdio: ['ignore', io, io], detached: true, env });
    const entry = { child, mark };
    running.add(entry);
    const chunks = [];
    child.stdout?.on('data', (c) => (buffered ? chunks.push(c) : process.stdout.write(c), counts.push(c)));
    child.stderr?.on('data', (c) => (buffered ? chunks.push(c) : process.stderr.write(c)));
    const counts = [];
    let overran = false;
    const grace = Math.min(GRACE_MS, timeoutMs);
    const hardStop = setTimeout(() => {
      overran = true;
      console.error(`${file}: still running ${grace / 1000} s after its ${timeoutMs / 1000} s timeout; killing it and everything it started`);
      killAll(entry);
    }, timeoutMs + grace);
    child.on('error', (e) => {
      clearTimeout(hardStop);
      running.delete(entry);
      console.error(`${file}: ${e.message}`);
      resolvePassed(false);
    });
    child.on('exit', async (code) => {
      clearTimeout(hardStop);
      killAll(entry);
      running.delete(entry);
      if (buffered) {
        // The pipes close once the last process holding them is dead: at once after killAll.
        await Promise.race([Promise.all([closed(child.stdout), closed(child.stderr)]), sleep(5_000)]);
        process.stdout.write(Buffer.concat(chunks));
      }
      const output = Buffer.concat(counts).toString('utf8');
      tally(output);
      const passed = code === 0 && !overran;
      if (!passed) failures.set(file, whyFailed(output));
      resolvePassed(passed);
    });
  });
}

/** Tests counted over every file, from the spec reporter's closing lines (`ℹ pass 12`). */
const totals = { pass: 0, fail: 0, skipped: 0, cancelled: 0, todo: 0 };
function tally(output) {
  for (const key of Object.keys(totals)) {
    const m = new RegExp(`^\\u2139 ${key} (\\d+)$`, 'm').exec(output);
    if (m) totals[key] += Number(m[1]);
  }
}

/** Each failed file's failing tests with the first lines of their errors (not the stacks), by file. */
const failures = new Map();

/**
 * The spec reporter's "failing tests" section, cut to what says why: the test's name and the error's
 * first lines. Repeated at the end of the run, where a CI log that keeps only its tail still shows it.
 */
function whyFailed(output) {
  const at = output.lastIndexOf('\u2716 failing tests:');
  if (at < 0) return ['(no failing tests reported: the file crashed or was killed; see its output above)'];
  const lines = [];
  let errorLines = 0;
  for (const line of output.slice(at).split('\n').slice(1)) {
    if (line.startsWith('\u2716 ')) {
      lines.push(line);
      errorLines = 0;
    } else if (/^\s+at /.test(line) || line.trim() === '' || line.startsWith('test at ')) continue;
    else if (errorLines++ < 8) lines.push(line);
    if (lines.length >= 60) break;
  }
  return lines;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const closed = (stream) => (stream.closed ? Promise.resolve() : new Promise((r) => stream.once('close', r)));

/** Runs `group` with at most `concurrency` files at once; returns the files that failed. */
async function runGroup(group, concurrency, timeoutMs) {
  const failed = [];
  const queue = [...group];
  const worker = async () => {
    for (let file; (file = queue.shift()) !== undefined; ) {
      if (!(await runFile(file, timeoutMs, concurrency > 1))) failed.push(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, group.length) }, worker));
  return failed;
}

function stopEverything() {
  for (const entry of running) killAll(entry);
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the tests that run (${[...running].length})`);
    stopEverything();
    process.exit(code);
  });
}

const deadline = seconds('BERTH_TEST_DEADLINE', DEADLINE_MS);
setTimeout(() => {
  const names = [...running].map(({ child }) => child.spawnargs.at(-1)).join(', ');
  console.error(`Error: the tests did not finish in ${deadline / 1000} s; stopping ${names || 'them'}`);
  stopEverything();
  process.exit(1);
}, deadline);

const failed = [...(await runGroup(unit, 2, fileTimeout.unit)), ...(await runGroup(e2e, 1, fileTimeout.e2e))];
const took = Math.round((Date.now() - started) / 1000);
// A file that failed without a summary (killed, or a crash before its tests) counts as one failure.
const failedTests = Math.max(totals.fail + totals.cancelled, failed.length);
if (failed.length > 0) {
  console.error(`\n${failed.length} of ${files.length} test files failed (${took} s):`);
  for (const f of failed) console.error(`  ${f}`);
  for (const f of failed) console.error(`\nWhy ${f} failed:\n${(failures.get(f) ?? []).join('\n')}`);
} else console.log(`\n${files.length} test files passed (${took} s)`);
// The closing line CI reads.
console.log(`${totals.pass} passed, ${failedTests} failed, ${totals.skipped + totals.todo} skipped`);
process.exit(failed.length > 0 ? 1 : 0);
