import { createRequire } from 'node:module';

/**
 * berth's native addon (`native/berth-native.c`, built from source by `scripts/build-native.mjs`
 * and copied beside the modules that load it): the system calls Node has no API for, so that a
 * container's start and cleanup need no `mount`, `umount` or attach-bridge child. Each caller
 * keeps its child-process way for when the addon is missing (a build machine without a C
 * compiler, `BERTH_NO_NATIVE=1`), and says nothing about it: the behaviour is the same.
 */
export interface NativeCalls {
  /** mount(2) on the thread pool: an Error with `code` (EINVAL, EPERM...) when it fails. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): Promise<void>;
  /** umount2(2) on the thread pool (an unmount may sync the upper file system). */
  umount(target: string, flags: number): Promise<void>;
  /**
   * A new, empty network namespace pinned at `target` (an existing file) by a bind mount: made on
   * a thread of its own that ends after, so no other thread of the process changes namespace.
   */
  netns(target: string): Promise<void>;
  /**
   * Runs `file` (looked up in PATH without a slash) with `argv` (argv[0] included) and `env`
   * ("K=V" strings; null: berth's own), `input` on its stdin (/dev/null without): [exit status
   * or -1, the signal that ended it or 0, stdout, stderr], each kept to `maxBytes`. Done when
   * both pipes closed, or with `untilExit` when it exited and its stdout ended (a grandchild may
   * hold stderr). Rejects with the errno's error (`syscall` "spawn") when it cannot be run.
   */
  run(
    file: string,
    argv: string[],
    env: string[] | null,
    maxBytes: number,
    input?: Buffer | null,
    untilExit?: boolean,
  ): Promise<[status: number, signal: number, stdout: Buffer, stderr: Buffer]>;
  /**
   * conmon started as podman starts it: stdin and stdout /dev/null, stderr and fd 3 (its sync
   * pipe) pipes, `keep`'s descriptors as 4, 5..., in `cwd`, in a session of its own. Resolves
   * with its PID, what it reported on the sync pipe (once the report is whole or the pipe closed)
   * and what it wrote on stderr by then; rejects when it cannot be run (`syscall` "spawn").
   */
  startMonitor(file: string, argv: string[], env: string[] | null, cwd: string | null, keep: number[]): Promise<[pid: number, sync: string, stderr: string]>;
  /**
   * A socket bound to `address` (an IPv4 or IPv6 literal; IPv6 only) and `port` (0: any),
   * listening when TCP (SO_REUSEADDR, as Node's servers), close-on-exec: its descriptor and the
   * port bound. Throws the errno's error (`code` EADDRINUSE...), `syscall` naming the call.
   */
  bindPort(address: string, port: number, udp: boolean): [fd: number, port: number];
  /**
   * A running hash (sha256 or sha512) on the OpenSSL Node carries, as createHash's, without
   * loading node:crypto; throws where Node exports no OpenSSL. hashDigest gives the hex digest.
   */
  hashStart(algorithm: string): NativeHash;
  hashUpdate(hash: NativeHash, data: Uint8Array): void;
  hashDigest(hash: NativeHash): string;
  /** A connected SOCK_SEQPACKET client of `dir/name`, read on Node's own loop. Throws the connect's error. */
  SeqpacketSocket: new (
    dir: string,
    name: string,
    onPacket: (data: Buffer | null, errno: number) => void,
    onWritable: () => void,
  ) => SeqpacketSocket;
}

export interface SeqpacketSocket {
  /** Sends one packet: its length, or -errno (-EAGAIN while the socket is full). */
  send(data: Buffer): number;
  /** The next onWritable comes once the socket takes a packet again. */
  awaitWritable(): void;
  shutdownWrite(): void;
  close(): void;
}

/** A hash in the addon (an N-API external). */
export type NativeHash = { readonly __nativeHash: unique symbol };

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MNT_DETACH = 2;
export const EAGAIN = 11;

let loaded: NativeCalls | null | undefined;

/** The addon, loaded at the first call; undefined where it was not built or is turned off. */
export function nativeCalls(): NativeCalls | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.BERTH_NO_NATIVE !== '1') {
      try {
        loaded = createRequire(import.meta.url)(new URL('./berth-native.node', import.meta.url).pathname) as NativeCalls;
      } catch {
        // not built here: the programs do the work
      }
    }
  }
  return loaded ?? undefined;
}

/** An environment as the addon's calls take it: `KEY=VALUE` strings, unset values left out. */
export function envList(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}
