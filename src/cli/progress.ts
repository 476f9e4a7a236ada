import type { ProgressEvent, ProgressSink } from '../util/progress.js';
import { humanSize } from './output/units.js';

function short(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

/**
 * How a command shows long work: per-blob bars with sizes and speed on a terminal, podman's plain
 * lines ("Copying blob …") otherwise, nothing with --quiet. Everything goes to stderr, so stdout
 * stays clean for IDs and archives.
 */
export async function progressReporter(quiet: boolean | undefined): Promise<{ sink?: ProgressSink; stop: () => void }> {
  if (quiet) return { stop: () => undefined };
  if (!process.stderr.isTTY) return { sink: plainLines, stop: () => undefined };
  const { MultiBar, Presets } = (await import('cli-progress')).default;
  const bars = new MultiBar(
    {
      stream: process.stderr,
      format: 'Copying blob {id} [{bar}] {sofar} / {size} {speed}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      autopadding: true,
    },
    Presets.shades_classic,
  );
  const active = new Map<string, { bar: import('cli-progress').SingleBar; started: number; size: number }>();
  const payload = (size: number, bytes: number, started: number) => {
    const secs = (Date.now() - started) / 1000;
    return { sofar: humanSize(bytes), size: humanSize(size), speed: secs > 0.2 ? `${humanSize(bytes / secs)}/s` : '' };
  };
  const sink = (e: ProgressEvent) => {
    switch (e.type) {
      case 'blob': {
        const id = short(e.digest);
        if (e.state === 'skipped') {
          // With no bar drawn yet a plain line is safe; among live bars it must go through them.
          if (active.size === 0) plainLines(e);
          else bars.log(`Copying blob ${id} skipped: already exists\n`);
        } else if (e.state === 'start') {
          active.set(e.digest, { bar: bars.create(Math.max(e.size, 1), 0, { id, ...payload(e.size, 0, Date.now()) }), started: Date.now(), size: e.size });
        } else {
          const a = active.get(e.digest);
          a?.bar.update(Math.max(a.size, 1), { id, ...payload(a.size, a.size, a.started), speed: 'done' });
        }
        break;
      }
      case 'bytes': {
        const a = active.get(e.digest);
        a?.bar.update(e.bytes, { id: short(e.digest), ...payload(a.size, e.bytes, a.started) });
        break;
      }
      case 'config':
      case 'manifest':
        // Layers are done by now: finish the bars, then podman's plain closing lines.
        if (active.size > 0) bars.stop();
        plainLines(e);
        break;
    }
  };
  return { sink, stop: () => (active.size > 0 ? bars.stop() : undefined) };
}

/**
 * podman's plain lines for a pull a run or create makes (`run docker-archive:FILE`, an image not
 * in the store): "Getting image source signatures" first, then a line per blob, config and
 * manifest, on stderr.
 */
export function pullLines(): ProgressSink {
  let started = false;
  return (e) => {
    if (!started) process.stderr.write('Getting image source signatures\n');
    started = true;
    plainLines(e);
  };
}

function plainLines(e: ProgressEvent): void {
  switch (e.type) {
    case 'blob':
      if (e.state === 'start') process.stderr.write(`Copying blob ${short(e.digest)}\n`);
      else if (e.state === 'skipped') process.stderr.write(`Copying blob ${short(e.digest)} skipped: already exists\n`);
      break;
    case 'config':
      process.stderr.write(`Copying config ${short(e.digest)}\n`);
      break;
    case 'manifest':
      process.stderr.write('Writing manifest to image destination\n');
      break;
    case 'bytes':
      break;
  }
}
