// One run of a task per key at a time: whoever asks while it runs shares its result.

export class SingleFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  /** Starts `task` for `key`, or joins the run already going (`joined`, and `task` is not called). */
  run<T>(key: string, task: () => Promise<T>): { joined: boolean; result: Promise<T> } {
    const existing = this.running.get(key) as Promise<T> | undefined;
    if (existing) return { joined: true, result: existing };
    const result = task().finally(() => this.running.delete(key));
    this.running.set(key, result);
    return { joined: false, result };
  }

  /** Resolves once every run going now has ended, however it ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
