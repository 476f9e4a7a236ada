import { ROOTLESS_GID_ENV, ROOTLESS_UID_ENV, rootlessIds, rootlessRunRoot } from '../../util/rootless.js';

/**
 * Runs this very berth command again inside the user's namespace (runtime/userns.ts), made first
 * if there is none, when an ordinary user runs it: there berth is UID 0 over the user's
 * subordinate IDs, so it can give an image's files their owners, mount overlays and run
 * containers as rootless podman does. Returns only when nothing is to be done: as root, or
 * already inside. The process is replaced (execve), so signals, stdio and the exit code are the
 * command's own with no process in between.
 */
export async function enterUserNamespace(args: readonly string[]): Promise<void> {
  if ((process.getuid?.() ?? 0) === 0) return;
  const ids = rootlessIds();
  if (!ids) return;
  const { ensurePause, joinArgv } = await import('../../runtime/userns.js');
  const pid = await ensurePause(rootlessRunRoot(ids), ids);
  // Through bin/berth when that started this process, so the inner one gets the same clean Node options.
  const launcher = process.env.BERTH_LAUNCHER;
  const self = launcher ? [launcher] : [process.execPath, '--', process.argv[1] ?? ''];
  const argv = joinArgv(pid, process.cwd(), [...self, ...args]);
  process.execve!(argv[0]!, argv, { ...process.env, [ROOTLESS_UID_ENV]: String(ids.uid), [ROOTLESS_GID_ENV]: String(ids.gid) });
}

/** The user namespace's pause process ended, so the next command makes it anew with today's /etc/subuid. */
export async function endUserNamespace(): Promise<boolean> {
  const ids = rootlessIds();
  if (!ids) return false;
  const { endPause } = await import('../../runtime/userns.js');
  // The rootless netns's slirp4netns would keep the old namespaces alive: what a killed start left
  // of it goes too (its containers' stops have ended it otherwise).
  const { endRootlessNetns } = await import('../../network/rootless-netns.js');
  await endRootlessNetns(`${rootlessRunRoot(ids)}/networks`).catch(() => false);
  return endPause(rootlessRunRoot(ids));
}
