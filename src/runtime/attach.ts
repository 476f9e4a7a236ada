import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { basename, dirname } from 'node:path';
import { Writable } from 'node:stream';
import { BerthError, errnoCode } from '../util/errors.js';
import { EAGAIN, nativeCalls, type NativeCalls, type SeqpacketSocket } from '../util/native.js';

/**
 * conmon's attach socket is SOCK_SEQPACKET, which Node cannot open, and each packet's first byte
 * says which stream it carries. berth's addon opens it (`nativeAttachment`); where that is not
 * built, Perl (always on Debian: perl-base is essential) bridges it: every
 * packet is written to our pipe as [stream][length][bytes], so the framing survives the pipe;
 * what we write to its stdin goes to the container's stdin. It may be started before conmon has
 * made the socket (so that its own start-up overlaps conmon's): it retries while the socket is
 * missing or refuses (a previous run's), up to the wait it is given.
 */
const BRIDGE = String.raw`
use strict; use Socket; use Errno qw(ENOENT ECONNREFUSED); use Time::HiRes qw(time sleep);
my ($dir, $name, $wait) = @ARGV;
chdir($dir) or die "chdir $dir: $!\n";
my $deadline = time + $wait;
my $s;
for (;;) {
  socket($s, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!\n";
  last if connect($s, pack_sockaddr_un($name));
  die "connect $dir/$name: $!\n" if time > $deadline || ($! != ENOENT && $! != ECONNREFUSED);
  close($s); sleep(0.002);
}
binmode STDOUT; binmode STDIN; $| = 1;
syswrite(STDOUT, pack('CN', 0, 0));
my $child = fork();
if ($child == 0) { my $b; while (sysread(STDIN, $b, 32768)) { send($s, $b, 0) or last; } shutdown($s, 1); exit 0; }
$SIG{TERM} = sub { kill 'KILL', $child; exit 0 };
my $b;
while (defined(recv($s, $b, 65536, 0)) && length($b) > 0) { syswrite(STDOUT, pack('CN', ord($b), length($b) - 1) . substr($b, 1)) or last; }
kill 'TERM', $child; exit 0;
`;

/** conmon's stream numbers on the attach socket; 0 is the bridge's own "connected". */
const CONNECTED = 0;
const STDOUT = 2;
const STDERR = 3;

export interface Attachment extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; end: []; connected: [] }> {
  stdin: Writable;
  close(): void;
  /** Resolves once the socket is connected (or rejects with the reason it could not be). */
  ready: Promise<void>;
}

/** Connects to conmon's attach socket, waiting up to `waitMs` for it to appear (0: it must be there). */
export function attachSocket(socketPath: string, waitMs = 0): Attachment {
  const native = nativeCalls();
  return native ? nativeAttachment(native, socketPath, waitMs) : bridgedAttachment(socketPath, waitMs);
}

/** conmon reads what it forwards to the container's stdin a packet at a time, into 32 KiB. */
const STDIN_PACKET_MAX = 32768;
/**
 * How soon a connect is tried again while the socket is not there yet: at once at first (a run's
 * start makes it within tens of milliseconds, and waits on this connection), then less often, for
 * a connection made long before its container starts (the API's attach to a created container).
 */
const CONNECT_RETRY_MS = { first: 2, max: 10 };

/**
 * The socket opened by berth's addon and read on Node's own loop: no child at all. The same
 * events, in the same order, as the bridge's.
 */
function nativeAttachment(native: NativeCalls, socketPath: string, waitMs: number): Attachment {
  const events = new EventEmitter() as Attachment;
  let socket: SeqpacketSocket | undefined;
  let closed = false;
  let writable: (() => void)[] = [];
  const wake = () => {
    const waiting = writable;
    writable = [];
    for (const w of waiting) w();
  };
  const onPacket = (data: Buffer | null) => {
    // conmon closed it (the container's output ended) or it failed: the end either way.
    if (data === null) return close();
    if (data[0] === STDOUT) events.emit('stdout', data.subarray(1));
    else if (data[0] === STDERR) events.emit('stderr', data.subarray(1));
  };
  // Closed by either side, it ends: 'end' comes after the callers' current work, as the bridge's.
  const close = () => {
    if (closed) return;
    closed = true;
    socket?.close();
    wake();
    process.nextTick(() => events.emit('end'));
  };
  events.ready = (async () => {
    const deadline = Date.now() + waitMs;
    for (let retry = CONNECT_RETRY_MS.first; ; retry = Math.min(retry * 1.5, CONNECT_RETRY_MS.max)) {
      if (closed) throw new BerthError('IO', 'attaching to the container: closed before it connected');
      try {
        socket = new native.SeqpacketSocket(dirname(socketPath), basename(socketPath), onPacket, wake);
        break;
      } catch (e) {
        // Not made yet, or a previous run's socket that nothing listens on: tried again until the wait ends.
        const code = errnoCode(e);
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() >= deadline) {
          throw new BerthError('IO', `attaching to the container: connect ${socketPath}: ${(e as Error).message}`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, retry));
      }
    }
    events.emit('connected');
  })();
  // The caller may never await it (an early connection given up on): its failure is theirs to see.
  events.ready.catch(() => undefined);
  /** Sends a chunk as packets conmon can take whole, waiting while the socket is full. */
  const send = async (chunk: Buffer) => {
    await events.ready;
    for (let offset = 0; offset < chunk.length && !closed; ) {
      const packet = chunk.subarray(offset, offset + STDIN_PACKET_MAX);
      const n = socket!.send(packet);
      if (n === -EAGAIN) {
        await new Promise<void>((r) => {
          writable.push(r);
          socket!.awaitWritable();
        });
        continue;
      }
      // Any other failure: conmon is gone, and with it the container's stdin (the bridge stopped there too).
      if (n < 0) return;
      offset += packet.length;
    }
  };
  events.stdin = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      send(chunk).then(
        () => callback(),
        () => callback(),
      );
    },
    final(callback) {
      events.ready.then(
        () => {
          if (!closed) socket!.shutdownWrite();
          callback();
        },
        () => callback(),
      );
    },
  });
  events.close = close;
  return events;
}

/** The socket through the perl bridge, where the addon is not built. */
function bridgedAttachment(socketPath: string, waitMs: number): Attachment {
  // Connected by a relative name from its directory: a socket's path may not exceed 108 bytes.
  const child: ChildProcess = spawn('perl', ['-e', BRIDGE, dirname(socketPath), basename(socketPath), String(waitMs / 1000)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events = new EventEmitter() as Attachment;
  let pending: Buffer = Buffer.alloc(0);
  let errText = '';
  child.stderr!.on('data', (c: Buffer) => (errText += c.toString('utf8')));
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      const stream = pending[0];
      const data = pending.subarray(5, 5 + len);
      pending = pending.subarray(5 + len);
      if (stream === CONNECTED) events.emit('connected');
      else if (stream === STDOUT) events.emit('stdout', data);
      else if (stream === STDERR) events.emit('stderr', data);
    }
  });
  events.stdin = child.stdin!;
  child.stdin!.on('error', () => undefined);
  events.ready = new Promise<void>((resolve, reject) => {
    events.once('connected', resolve);
    child.once('exit', (code) => reject(new BerthError('IO', `attaching to the container: ${errText.trim() || `bridge exited ${code}`}`)));
    child.once('error', (e) => reject(new BerthError('IO', `attaching to the container: ${e.message}`, { cause: e })));
  });
  child.stdout!.on('end', () => events.emit('end'));
  events.close = () => child.kill('SIGTERM');
  return events;
}
