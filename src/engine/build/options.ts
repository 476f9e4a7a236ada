import type { ImageFormat } from '../images/commit.js';
import type { PullOptions } from '../images/pull.js';
import type { BuildOutput } from './output.js';

export interface BuildOptions {
  contextDir: string;
  /** The Dockerfile; default Containerfile, then Dockerfile, in the context. */
  file?: string;
  /** `--ignorefile`: the exclusions to use instead of the context's .containerignore/.dockerignore. */
  ignoreFile?: string;
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  /** `--pull`: when a base image (FROM, COPY --from, a bind mount's from=) is pulled; default missing. */
  pull?: PullPolicy;
  /** TLS, credentials and the like for those pulls. */
  pullOptions?: PullOptions;
  /** Per image named in the build, options for its pull instead of `pullOptions` (the Docker API's X-Registry-Config: credentials by registry). */
  pullOptionsFor?: (name: string) => PullOptions | undefined;
  /** `--platform`: only the host's is accepted (berth does not emulate). */
  platform?: string;
  /** `--label K=V`, set on the final image. */
  labels?: string[];
  target?: string;
  noCache?: boolean;
  format?: ImageFormat;
  /** RUN's network: the default bridge network (as buildah's as root), none, host or a network's name. */
  network?: string;
  /** RUN's extra /etc/hosts entries (`--add-host HOST:IP`, the Docker API's `extrahosts`); not part of a step's cache key, as with Docker. */
  addHosts?: string[];
  /** RUN's rlimits and security options (`--ulimit`, `--security-opt`), as `run` takes them. */
  ulimits?: string[];
  securityOpt?: string[];
  /** `--timestamp`: seconds since the epoch for every created time and every file's mtime. */
  timestamp?: number;
  /**
   * SOURCE_DATE_EPOCH (the environment, `--source-date-epoch` or the build arg): created times are
   * set to it and the layers' mtimes clamped to it.
   */
  sourceDateEpoch?: number;
  /** `--squash` / `--layers=false`: the final stage's own steps become one layer over its base. */
  squash?: boolean;
  /**
   * `--layers=false`: no step's image outlives the build, only the final one, as buildah keeps no
   * intermediate image then (the images the steps made are removed; ones that were there before stay).
   */
  dropIntermediates?: boolean;
  /** `-o`: also write the final image's file system here. */
  output?: BuildOutput;
  /** `--secret id=ID,src=FILE`: ID to the file a `RUN --mount=type=secret,id=ID` sees. */
  secrets?: ReadonlyMap<string, string>;
  /** Stops the build: a running RUN is killed, no further step starts. */
  signal?: AbortSignal;
  /** Progress and RUN output, as podman prints it; nothing when undefined. */
  out?: (text: string) => void;
  /**
   * For a live display: each step's start and outcome. When given, `out` gets no STEP or `-->`
   * lines (the display draws them), only RUN output, ONBUILD, COMMIT and warnings.
   */
  onStep?: (e: StepEvent) => void;
  /** How many independent stages may build at once (podman's --jobs); 1, the default, is sequential. */
  jobs?: number;
}

/** A step starting (`running`) or ending, as a live display shows it. */
export interface StepEvent {
  /** `[N/M] ` in a multi-stage build, else empty. */
  stage: string;
  step: number;
  steps: number;
  /** The instruction as written. */
  text: string;
  state: 'running' | 'cached' | 'done' | 'failed';
  /** Once ended: how long it took, and the image it made or reused (none for ARG and the like). */
  ms?: number;
  id?: string;
}

export type PullPolicy = 'always' | 'missing' | 'never' | 'newer';
