// A streamed JSON answer (pull, push, load, build): one JSON object a line as the work reports
// them. As dockerd writes its headers only with the first message, a failure before any message
// is a plain error with its status (404 for an unknown image, 401 for refused credentials); a
// failure after is the stream's last line, Docker's {"errorDetail":{"message"},"error"}.
import type { Context } from 'hono';
import { BerthError } from '../../util/errors.js';
import type { ApiEnv } from '../context.js';
import { errorResponse } from '../errors.js';
import { errorMessage } from '../shapes/progress-json.js';

export type Emit = (message: object) => void;

/** `exitCode` picks the code a failure's errorDetail carries (a build's failed RUN: its status, which docker build exits with). */
export async function jsonStream(
  c: Context<ApiEnv>,
  work: (emit: Emit) => Promise<void>,
  exitCode: (e: unknown) => number | undefined = () => undefined,
): Promise<Response> {
  const encoder = new TextEncoder();
  const queue: Uint8Array[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let waiting: (() => void) | undefined;
  const notify = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const wait = () => new Promise<void>((resolve) => (waiting = resolve));
  const emit: Emit = (m) => {
    queue.push(encoder.encode(`${JSON.stringify(m)}\n`));
    notify();
  };
  void work(emit).then(
    () => {
      finished = true;
      notify();
    },
    (error: unknown) => {
      failure = { error };
      finished = true;
      notify();
    },
  );
  // Until the first message, the answer's status is still open.
  while (queue.length === 0 && !finished) await wait();
  if (queue.length === 0 && failure) throw failure.error;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (queue.length === 0 && !finished) await wait();
      const next = queue.shift();
      if (next) return controller.enqueue(next);
      if (failure) {
        const { status, message } = errorResponse(failure.error);
        // A user's failure (a RUN that failed, a registry's refusal) is the client's to show; only the unexpected is logged.
        if (status >= 500 && !(failure.error instanceof BerthError))
          console.error(`berth service: ${c.req.method} ${c.req.path}: ${(failure.error as Error)?.stack ?? message}`);
        const line = errorMessage(message, exitCode(failure.error));
        failure = undefined;
        return controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      }
      controller.close();
    },
  });
  return c.body(body, 200, { 'Content-Type': 'application/json' });
}
