import { stateFilePath } from '../../store/container-state.js';
import type { Store } from '../../store/store.js';
import { runRootOf } from './paths.js';

/**
 * How conmon calls berth back when a container exits (records the exit, unmounts, --rm, restart
 * policy). The CLI sets it to itself; a library user may point it at the berth CLI.
 */
export const berthCommand: { argv: string[] } = { argv: ['berth'] };

/**
 * What conmon runs when the container exits: berth's cleanup, behind a shell that ends at once when
 * the cleanup is someone else's to do, so that no Node process starts only to find the work done
 * (with `rm -af` of a hundred containers, a hundred of them at once):
 * - the state file names an owner that is alive (`ownerToken`: its PID with its start time, as
 *   util/process.ts names a process; a foreground run's caller, or a stop that took the cleanup
 *   over): it cleans up; when it was killed, berth's cleanup runs;
 * - the state file says `removing`: an rm ended the process and removes the container whole;
 * - there is no state file: an rm has removed the container already.
 */
export function exitCommand(store: Store, id: string): string[] {
  const cleanup = [...berthCommand.argv, '--root', store.root, '--runroot', runRootOf(store), 'container', 'cleanup', id];
  // The state file is one line of JSON; the owner is read from it when the container exits, not
  // fixed at start, so that a stop can take the cleanup over (lifecycle.ts, endProcess).
  const script = [
    'alive() { [ -n "$1" ] && read -r p < "/proc/$1/stat" || return 1; s=$2; set -- ${p##*) }; [ "${20}" = "$s" ]; }',
    // No state file: an rm took the container's directory, and did its cleanup (nor is a store
    // removed meanwhile made anew by the cleanup's opening it).
    '[ -e "$1" ] || exit 0',
    'read -r l < "$1"',
    'case $l in *\'"status":"removing"\'*) exit 0 ;; esac',
    'case $l in *\'"ownerToken":"\'*) t=${l#*\'"ownerToken":"\'}; t=${t%%\'"\'*}; alive "${t%-*}" "${t#*-}" 2>/dev/null && exit 0 ;; esac',
    'shift; exec "$@"',
  ].join('; ');
  return ['/bin/sh', '-c', script, 'berth-exit', stateFilePath(store.containerDir(id)), ...cleanup];
}
