// A private Ceph RGW for scripts (bench/registry-s3.sh): prints `endpoint accessKey secretKey` on one
// line once it serves, then runs until stdin closes or SIGTERM/SIGINT, and takes the cluster down.
// BERTH_CEPH_MEMSTORE_GB sizes its OSD (memory; default 4).
import { startCephRgw } from './ceph-rgw.js';

const gb = Number(process.env.BERTH_CEPH_MEMSTORE_GB ?? '4');
// The benchmarks measure RGW as any client meets it: on 127.0.0.1, with the kernel's delayed ACKs.
const rgw = await startCephRgw({ memstoreBytes: gb * 1024 ** 3, quickAck: false });
process.stdout.write(`${rgw.endpoint} ${rgw.accessKey} ${rgw.secretKey}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void rgw.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
