import { BerthError } from '../util/errors.js';

/**
 * Linux signal names and numbers (x86, arm and most other architectures), with the aliases podman
 * takes: CLD, IOT, POLL and the real-time signals as RTMIN+n and RTMAX-n, as `kill -l` names them.
 */
const NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};
const RTMIN = 34;
const RTMAX = 64;
NUMBERS.RTMIN = RTMIN;
NUMBERS.RTMAX = RTMAX;
// 35 to 49 are RTMIN+1 to RTMIN+15, 50 to 63 RTMAX-14 to RTMAX-1; no other offsets are names.
for (let n = 1; n <= 15; n++) NUMBERS[`RTMIN+${n}`] = RTMIN + n;
for (let n = 1; n <= 14; n++) NUMBERS[`RTMAX-${n}`] = RTMAX - n;

/**
 * A signal as `kill -s` and `--stop-signal` take it, as podman parses it: a name with or without
 * SIG in any case (`term`, `SIGTERM`, `RTMIN+3`), or a number from 1 to 64, either after an
 * optional dash. Returns its number.
 */
export function parseSignal(given: string): number {
  // podman drops one leading dash (`-s -9`, as kill(1) writes it) before it parses, and so names
  // what is left in its errors.
  const value = given.startsWith('-') ? given.slice(1) : given;
  if (/^[+-]?\d+$/.test(value)) {
    const n = Number(value);
    if (n === 0) throw new BerthError('USAGE', `invalid signal: ${value}`);
    if (n < 1 || n > RTMAX) throw new BerthError('USAGE', `valid signals are 1 through ${RTMAX}`);
    return n;
  }
  const name = value.toUpperCase().replace(/^SIG/, '');
  const n = Object.hasOwn(NUMBERS, name) ? NUMBERS[name] : undefined;
  if (n === undefined) throw new BerthError('USAGE', `invalid signal: ${value}`);
  return n;
}

/** A signal's name as Go's unix.SignalName gives it (`SIGTERM`), for messages; a number it cannot name stays a number. */
export function signalName(given: string): string {
  let n: number;
  try {
    n = parseSignal(given);
  } catch {
    return given;
  }
  const name = Object.keys(NUMBERS).find((k) => NUMBERS[k] === n);
  return name ? `SIG${name}` : String(n);
}
