#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, and
// total (inclusive) time of the heaviest functions. For the "where the time goes" notes of
// BENCHMARKS.md.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-interval 100 dist/cli/berth.mjs ... version
//   node bench/cpuprofile-summary.mjs /tmp/prof/*.cpuprofile [TOP]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample i lasted timeDeltas[i + 1] (the last one: unknown, taken as the mean).
const self = new Map();
const deltas = profile.timeDeltas;
const mean = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (i + 1 < deltas.length ? deltas[i + 1] : mean)));

const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${short(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

const bySelf = new Map();
const byFile = new Map();
const total = new Map();
let all = 0;
for (const [id, us] of self) {
  all += us;
  const n = nodes.get(id);
  bySelf.set(label(n), (bySelf.get(label(n)) ?? 0) + us);
  const url = n.callFrame.url ? short(n.callFrame.url) : `(${n.callFrame.functionName || 'native'})`;
  byFile.set(url, (byFile.get(url) ?? 0) + us);
  // inclusive: every distinct ancestor frame label gets the sample once
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(nodes.get(cur));
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + us);
  }
}

const ms = (us) => (us / 1000).toFixed(1).padStart(8);
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms  ${k}`);
};
console.log(`${file}: ${(all / 1000).toFixed(1)} ms sampled (${profile.samples.length} samples)`);
print('self time by file', byFile);
print('self time by function', bySelf);
print('total (inclusive) time by function', total);
