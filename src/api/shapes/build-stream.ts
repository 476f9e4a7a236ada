// The engine's build progress as the classic builder's JSON stream: "Step 1/3 : FROM busybox",
// " ---> <id>" after each step (" ---> Using cache" first when reused), the RUN output as it comes,
// then {"aux":{"ID"}}, "Successfully built <short id>" and "Successfully tagged <name>".
import type { StepEvent } from '../../engine/index.js';
import type { JsonMessage } from './progress-json.js';

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** podman's lines the live display replaces that Docker's stream has no place for: the commit line and the engine's own "Successfully tagged". */
const PODMAN_ONLY = /^(COMMIT( .*)?|Successfully tagged .*)\n$/;

export interface BuildStream {
  /** The engine's text output (RUN output, warnings, pull lines). */
  out: (text: string) => void;
  /** The engine's step events. */
  onStep: (e: StepEvent) => void;
  /** The end of a successful build: the image's ID and the names given (as the client gave them). */
  finish: (id: string, tags: readonly string[]) => void;
  /** A failed build: a quiet one shows what it held back, as dockerd does, before the error. */
  failed: () => void;
}

/** Messages for `emit`; with `quiet` (q=1) only the image's ID, as dockerd's quiet build answers (unless it fails). */
export function buildStream(emit: (m: JsonMessage) => void, quiet: boolean): BuildStream {
  const held: string[] = [];
  const stream = (text: string) => {
    if (quiet) held.push(text);
    else emit({ stream: text });
  };
  return {
    out: (text) => {
      if (!PODMAN_ONLY.test(text)) stream(text);
    },
    onStep: (e) => {
      if (e.state === 'running') stream(`Step ${e.stage}${e.step}/${e.steps} : ${e.text}\n`);
      else if (e.state === 'cached') stream(` ---> Using cache\n${e.id ? ` ---> ${shortId(e.id)}\n` : ''}`);
      else if (e.state === 'done' && e.id) stream(` ---> ${shortId(e.id)}\n`);
    },
    finish: (id, tags) => {
      emit({ aux: { ID: id } });
      if (quiet) return emit({ stream: `${id}\n` });
      stream(`Successfully built ${shortId(id)}\n`);
      for (const t of tags) stream(`Successfully tagged ${withLatest(t)}\n`);
    },
    failed: () => {
      for (const text of held.splice(0)) emit({ stream: text });
    },
  };
}

/** A name as dockerd prints it after a build: with `:latest` when it carries no tag or digest. */
export function withLatest(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  return name.includes('@') || name.lastIndexOf(':') > lastSlash ? name : `${name}:latest`;
}
