// The X-Docker-Container-Path-Stat header of the archive routes: what a path in a container is,
// as base64 JSON of Go's container.PathStat (its mode in Go's os.FileMode bits, which `docker cp`
// tests with IsDir and the like).
import { constants } from 'node:fs';
import type { ContainerPathStat } from '../../engine/index.js';

/** Go's os.FileMode type bits (they sit above the permission bits, unlike Unix's st_mode). */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
};

/** A Unix st_mode as Go's os.FileMode. */
export function goFileMode(mode: number): number {
  let go = mode & 0o777;
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFDIR) go += GO_MODE.dir;
  else if (type === constants.S_IFLNK) go += GO_MODE.symlink;
  else if (type === constants.S_IFBLK) go += GO_MODE.device;
  else if (type === constants.S_IFCHR) go += GO_MODE.device + GO_MODE.charDevice;
  else if (type === constants.S_IFIFO) go += GO_MODE.namedPipe;
  else if (type === constants.S_IFSOCK) go += GO_MODE.socket;
  if (mode & 0o4000) go += GO_MODE.setuid;
  if (mode & 0o2000) go += GO_MODE.setgid;
  if (mode & 0o1000) go += GO_MODE.sticky;
  return go;
}

export const isGoDir = (goMode: number) => goMode >= GO_MODE.dir;

export function pathStatHeader(s: ContainerPathStat): string {
  const json = { name: s.name, size: s.size, mode: goFileMode(s.mode), mtime: s.mtime.toISOString(), linkTarget: s.linkTarget };
  return Buffer.from(JSON.stringify(json)).toString('base64');
}
