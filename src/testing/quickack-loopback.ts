import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * A loopback address of a test's own on which the kernel acknowledges at once (`ip route … quickack
 * 1`). Why: Ceph RGW 16 writes a response's headers and its body apart and its beast frontend has no
 * `tcp_nodelay`, so Nagle holds the body until the client's delayed ACK of the headers: 40 ms for
 * every response with a body, most of the S3 tests' time. With the client's ACKs immediate the body
 * follows at once (the S3 e2e file: 42 s -> 29 s). The route is the address's own (/32, in the local
 * table), so nothing else on the host changes; `release()` deletes it.
 */
export interface QuickAckLoopback {
  address: string;
  release(): void;
}

/** Undefined where the route cannot be added (no CAP_NET_ADMIN, no iproute2): the caller keeps 127.0.0.1. */
export function quickAckLoopback(): QuickAckLoopback | undefined {
  for (let attempt = 0; attempt < 5; attempt++) {
    // 127.200.0.0/13's addresses are loopback like 127.0.0.1; one taken by another test fails with
    // "File exists" and another is drawn.
    const address = `127.${200 + randomInt(8)}.${randomInt(256)}.${1 + randomInt(254)}`;
    try {
      execFileSync('ip', ['route', 'add', 'local', `${address}/32`, 'dev', 'lo', 'table', 'local', 'quickack', '1'], { stdio: 'ignore' });
    } catch {
      continue;
    }
    return { address, release: () => deleteQuickAckRoute(address) };
  }
  return undefined;
}

/** Deletes the route quickAckLoopback() added for `address` (also for a test that died: see ceph-rgw.ts's sweep). */
export function deleteQuickAckRoute(address: string): void {
  try {
    execFileSync('ip', ['route', 'del', 'local', `${address}/32`, 'dev', 'lo', 'table', 'local'], { stdio: 'ignore' });
  } catch {
    // gone already
  }
}
