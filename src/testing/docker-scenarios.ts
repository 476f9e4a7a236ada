import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DockerEngine, type EngineKind, startEngine, TEST_ENGINES } from './docker-engines.js';

/**
 * One client scenario is a function of an engine; a suite runs each of its scenarios against every
 * engine in TEST_ENGINES, one engine at a time, each engine started once for the suite and stopped
 * (with everything it made) after it, whatever failed.
 */
export type Scenario = (engine: DockerEngine) => Promise<void>;

export function scenariosPerEngine(title: string, scenarios: Record<string, Scenario>, opts: { timeoutMs: number; engines?: readonly EngineKind[] }): void {
  for (const kind of opts.engines ?? TEST_ENGINES) {
    describe(`${title} against ${kind}`, { timeout: opts.timeoutMs }, () => {
      let engine: DockerEngine | undefined;
      before(async () => {
        engine = await startEngine(kind);
      });
      after(async () => {
        await engine?.stop();
      });
      for (const [name, scenario] of Object.entries(scenarios)) {
        it(name, async () => {
          if (!engine) throw new Error(`${kind} did not start`);
          await scenario(engine);
        });
      }
    });
  }
}

/**
 * Whether a check that the anchors disagree on applies to this engine: dockerd is the reference, so
 * such a check runs for every engine but podman, whose difference the caller notes beside it.
 */
export function podmanDiffers(engine: DockerEngine): boolean {
  return engine.kind === 'podman';
}

/** The body of GET http://127.0.0.1:PORT/PATH once something answers there (up to `timeoutMs`). */
export async function httpGet(port: number, path = '/', timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return await res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nothing answered on 127.0.0.1:${port}${path} in ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** A busybox shell line that serves `text` as /index.html on port 80 in the foreground. */
export function serveText(text: string, port = 80): string[] {
  return ['sh', '-c', `mkdir -p /www && echo '${text}' > /www/index.html && exec httpd -f -p ${port} -h /www`];
}

/**
 * The body of GET http://HOST/ from inside a container, or undefined when it fails. busybox's nc:
 * the static busybox's wget dies of SIGSEGV (exit 139) in these engines' containers here.
 */
export async function httpFromContainer(engine: DockerEngine, container: string, host: string, port = 80): Promise<string | undefined> {
  const r = await engine.docker(['exec', container, 'sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 "$1" "$2"', 'sh', host, String(port)]);
  if (r.code !== 0) return undefined;
  const at = r.stdout.indexOf('\r\n\r\n');
  return at < 0 || !r.stdout.startsWith('HTTP/1.') ? undefined : r.stdout.slice(at + 4);
}
