import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesSize, createdAgo, goHumanSize, goTime, humanDuration, humanSize, humanSizeWithPrecision } from './units.js';

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('humanSize (podman images/history SIZE)', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [1, '1 B'],
    [925, '925 B'],
    [999, '999 B'],
    [1000, '1 kB'],
    [1001, '1 kB'],
    [1023, '1.02 kB'],
    [1024, '1.02 kB'],
    [1025, '1.02 kB'], // 1.025 is 1.02499999... in binary
    [1026, '1.03 kB'],
    [1500, '1.5 kB'],
    [2125, '2.12 kB'], // exact tie: Go rounds half to even
    [2375, '2.38 kB'], // exact tie, odd digit: rounds up
    [5120, '5.12 kB'],
    [12_345, '12.3 kB'],
    [123_456, '123 kB'],
    [999_499, '999 kB'],
    [999_500, '1e+03 kB'], // Go's %.3g switches to exponent form; podman prints it as is
    [999_999, '1e+03 kB'],
    [1_000_000, '1 MB'],
    [1_048_576, '1.05 MB'],
    [1_456_000, '1.46 MB'],
    [1_500_000, '1.5 MB'],
    [7_667_000, '7.67 MB'],
    [77_889_000, '77.9 MB'],
    [GB, '1 GB'],
    [1_100_000_000, '1.1 GB'],
    [1e12, '1 TB'],
    [1e15, '1 PB'],
    [1e18, '1 EB'],
    [-5, '-5 B'],
  ];
  for (const [bytes, want] of cases) it(`${bytes} → ${want}`, () => assert.equal(humanSize(bytes), want));
});

describe('goHumanSize (go-units HumanSize, podman system df)', () => {
  // go-units' own TestHumanSize expectations.
  const cases: [number, string][] = [
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1_000_000, '1MB'],
    [1_048_576, '1.049MB'],
    [2 * MB, '2MB'],
    [3_420_000_000, '3.42GB'],
    [5_372_000_000_000, '5.372TB'],
    [2_220_000_000_000_000, '2.22PB'],
    [1e28, '1e+04YB'],
    [0, '0B'],
    [999, '999B'],
    [5_059_000, '5.059MB'],
    [9_999_600, '10MB'], // 9.9996 rounds to 10.00, printed without trailing zeros
  ];
  for (const [bytes, want] of cases) it(`${bytes} → ${want}`, () => assert.equal(goHumanSize(bytes), want));
});

describe('humanSizeWithPrecision', () => {
  const cases: [number, number, string][] = [
    [1_234_567, 1, '1MB'],
    [1_234_567, 2, '1.2MB'],
    [1_234_567, 3, '1.23MB'],
    [1_234_567, 5, '1.2346MB'],
    [95_000, 1, '1e+02kB'],
    [999_600_000, 3, '1e+03MB'],
    [999_600_000, 4, '999.6MB'],
  ];
  for (const [bytes, p, want] of cases) it(`${bytes} at ${p} → ${want}`, () => assert.equal(humanSizeWithPrecision(bytes, p), want));
});

describe('bytesSize (go-units BytesSize)', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536, '1.5KiB'],
    [1024 * 1024, '1MiB'],
    [2 * MiB, '2MiB'],
    [3.42 * GiB, '3.42GiB'],
    [5.372 * TiB, '5.372TiB'],
    [2.22 * PiB, '2.22PiB'],
    [KiB * KiB * KiB * KiB * KiB * PiB, '1.049e+06YiB'],
  ];
  for (const [bytes, want] of cases) it(`${bytes} → ${want}`, () => assert.equal(bytesSize(bytes), want));
});

describe('humanDuration (go-units HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const day = 24 * h;
  const week = 7 * day;
  const month = 30 * day;
  const year = 365 * day;
  // go-units' TestHumanDuration (v0.5.0, the version podman vendors), plus the edges between branches.
  const cases: [number, string][] = [
    [-5 * s, 'Less than a second'],
    [0, 'Less than a second'],
    [450, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [2 * s, '2 seconds'],
    [45 * s, '45 seconds'],
    [46 * s, '46 seconds'],
    [59 * s, '59 seconds'],
    [59_999, '59 seconds'],
    [60 * s, 'About a minute'],
    [1 * m, 'About a minute'],
    [2 * m - 1, 'About a minute'],
    [2 * m, '2 minutes'],
    [3 * m, '3 minutes'],
    [35 * m, '35 minutes'],
    [35 * m + 40 * s, '35 minutes'],
    [45 * m, '45 minutes'],
    [45 * m + 40 * s, '45 minutes'],
    [46 * m, '46 minutes'],
    [59 * m, '59 minutes'],
    [60 * m - 1, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * m, 'About an hour'],
    [1 * h + 30 * m - 1, 'About an hour'],
    [1 * h + 30 * m, '2 hours'],
    [1 * h + 31 * m, '2 hours'],
    [1 * h + 59 * m, '2 hours'],
    [3 * h, '3 hours'],
    [3 * h + 29 * m, '3 hours'],
    [3 * h + 31 * m, '4 hours'],
    [3 * h + 59 * m, '4 hours'],
    [3 * h + 60 * m, '4 hours'],
    [24 * h, '24 hours'],
    [1 * day + 12 * h, '36 hours'],
    [47 * h + 29 * m, '47 hours'],
    [47 * h + 30 * m, '2 days'],
    [2 * day, '2 days'],
    [7 * day, '7 days'],
    [13 * day + 5 * h, '13 days'],
    [2 * week - 1, '2 weeks'], // the hour count rounds up to 336
    [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'],
    [3 * week, '3 weeks'],
    [4 * week, '4 weeks'],
    [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'],
    [1 * month + 2 * week, '6 weeks'],
    [2 * month - 1, '2 months'],
    [2 * month, '2 months'],
    [2 * month + 2 * week, '2 months'],
    [3 * month, '3 months'],
    [3 * month + 1 * week, '3 months'],
    [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'],
    [23 * month, '23 months'],
    [24 * month, '24 months'],
    [2 * year - 1, '1 years'], // go-units truncates hours here, and says so
    [2 * year, '2 years'],
    [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'],
    [55 * year, '55 years'],
    [NaN, '292 years'],
  ];
  for (const [ms, want] of cases) it(`${ms} ms → ${want}`, () => assert.equal(humanDuration(ms), want));
});

describe('createdAgo', () => {
  const now = new Date('2024-06-01T12:00:00Z');
  it('appends " ago"', () => assert.equal(createdAgo(new Date('2024-06-01T11:59:30Z'), now), '30 seconds ago'));
  it('takes an ISO string', () => assert.equal(createdAgo('2024-05-18T12:00:00Z', now), '2 weeks ago'));
  it('takes epoch milliseconds', () => assert.equal(createdAgo(now.getTime() - 3 * 3600_000, now.getTime()), '3 hours ago'));
  it('a future time is less than a second ago', () => assert.equal(createdAgo(new Date('2025-01-01T00:00:00Z'), now), 'Less than a second ago'));
  it('an unreadable time reads as the zero time', () => assert.equal(createdAgo('not a date', now), '292 years ago'));
  it('defaults now to the current time', () => assert.equal(createdAgo(Date.now() - 90_000), 'About a minute ago'));
});

describe('goTime (Go time.Time.String in UTC)', () => {
  const cases: [Date | string | number, string][] = [
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02 03:04:05 +0000 UTC'],
    ['2024-01-02T03:04:05.5Z', '2024-01-02 03:04:05.5 +0000 UTC'],
    ['2024-01-02T03:04:05.120Z', '2024-01-02 03:04:05.12 +0000 UTC'],
    [0, '1970-01-01 00:00:00 +0000 UTC'],
  ];
  for (const [d, want] of cases) it(want, () => assert.equal(goTime(d), want));
});
