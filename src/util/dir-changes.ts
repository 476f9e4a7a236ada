import { type FSWatcher, watch } from 'node:fs';

/**
 * A directory watched (inotify) for a loop that re-checks something on disk: `next(ms)` resolves
 * at the next change in the directory (to `name` only, when given) or after `ms`, whichever comes
 * first. The timeout is the poll behind the watch: a watch that could not be set (the directory
 * gone, inotify exhausted) or an event it missed costs at most one interval. Close it when done.
 */
export class DirChanges {
  private wake: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;

  constructor(dir: string, name?: string) {
    try {
      this.watcher = watch(dir, (_event, changed) => {
        if (name === undefined || changed === null || changed === name) this.wake?.();
      });
      this.watcher.on('error', () => this.wake?.());
    } catch {
      this.watcher = undefined;
    }
  }

  next(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
