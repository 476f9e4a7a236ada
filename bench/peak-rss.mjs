// The peak resident memory of a group of processes over a window, for bench/docker-api.sh: samples the
// sum of their VmRSS (/proc/PID/status) every INTERVAL ms until SIGTERM/SIGINT, then prints
// "PEAK_KB SAMPLES HWM_KB". HWM_KB is the sum of the processes' own VmHWM, whose peak counters are
// reset at the start (`5` to /proc/PID/clear_refs, root only): a check on the sampling, which can
// miss a peak shorter than the interval (it is an upper bound of the summed peak, as each
// process's peak may fall at a different moment). It stops by itself when one of the processes exits,
// so a benchmark that dies cannot leave it running.
//
//   node bench/peak-rss.mjs INTERVAL_MS PID...
import { readFileSync, writeFileSync } from 'node:fs';

const interval = Number(process.argv[2]);
const pids = process.argv.slice(3);
if (!(interval > 0) || pids.length === 0) {
  console.error('usage: node bench/peak-rss.mjs INTERVAL_MS PID...');
  process.exit(2);
}

/** A field of /proc/PID/status in kB, or undefined once the process is gone. */
function statusKb(pid, field) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

for (const pid of pids) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not root, or an older kernel: HWM_KB is then the peak since the process started
  }
}

let peak = 0;
let samples = 0;
const finish = () => {
  const hwm = pids.reduce((sum, pid) => sum + (statusKb(pid, 'VmHWM') ?? 0), 0);
  console.log(`${peak} ${samples} ${hwm}`);
  process.exit(0);
};
const sample = () => {
  let sum = 0;
  for (const pid of pids) {
    const kb = statusKb(pid, 'VmRSS');
    if (kb === undefined) finish();
    sum += kb ?? 0;
  }
  samples++;
  if (sum > peak) peak = sum;
};
sample();
setInterval(sample, interval);
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
