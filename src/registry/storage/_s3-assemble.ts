// Making a blob object out of an upload session's segments, server-side where S3 allows it. Segments
// have whatever sizes the client's chunks had, while the parts of a multipart upload must be at least
// 5 MiB (but the last): a part that lies inside one segment is copied by the server (UploadPartCopy);
// one gathered from several small segments is streamed through this process, a part at a time.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { mapLimit, type S3Bucket } from './_s3-bucket.js';

/** S3's smallest part but the last. */
export const MIN_PART_BYTES = 5 << 20;
/** The largest part or single copy S3 takes; copies are cut smaller, so each finishes in reasonable time. */
const MAX_COPY_BYTES = 1 << 30;

export interface Segment {
  /** Relative key of the segment object. */
  key: string;
  offset: number;
  size: number;
}

/** A piece of one segment: bytes [start, end) of it. */
export interface SegmentRange {
  segment: Segment;
  start: number;
  end: number;
}

/**
 * The parts to assemble `segments` (in order, contiguous) from: each a list of segment ranges. A part
 * that is one range of at least MIN_PART_BYTES is to be copied server-side; others are gathered up to
 * `partBytes` (itself at least MIN_PART_BYTES). Every part but the last is at least MIN_PART_BYTES.
 */
export function planParts(segments: readonly Segment[], partBytes: number): SegmentRange[][] {
  const target = Math.max(partBytes, MIN_PART_BYTES);
  const parts: SegmentRange[][] = [];
  let gathering: SegmentRange[] = [];
  let gathered = 0;
  for (const segment of segments) {
    let pos = 0;
    while (pos < segment.size) {
      const left = segment.size - pos;
      if (gathered === 0 && left >= MIN_PART_BYTES) {
        // A small remainder is gathered with what follows, or is the last part, which may be small.
        const take = Math.min(left, MAX_COPY_BYTES);
        parts.push([{ segment, start: pos, end: pos + take }]);
        pos += take;
        continue;
      }
      const take = Math.min(left, target - gathered);
      gathering.push({ segment, start: pos, end: pos + take });
      gathered += take;
      pos += take;
      if (gathered >= target) {
        parts.push(gathering);
        gathering = [];
        gathered = 0;
      }
    }
  }
  if (gathering.length > 0) parts.push(gathering);
  return parts;
}

/** Whether a part is copied by the server rather than streamed through this process. */
export function isCopyPart(part: readonly SegmentRange[]): boolean {
  return part.length === 1 && part[0]!.end - part[0]!.start >= MIN_PART_BYTES;
}

/** The bytes of the ranges, in order, each range one ranged GET. */
function gather(bucket: S3Bucket, ranges: readonly SegmentRange[]): Readable {
  return Readable.from(
    (async function* () {
      for (const r of ranges) {
        if (r.end <= r.start) continue;
        const got = await bucket.stream(r.segment.key, { start: r.start, end: r.end - 1 });
        if (!got) throw new Error(`upload segment ${r.segment.key} disappeared`);
        yield* got.body as AsyncIterable<Buffer>;
      }
    })(),
    { objectMode: false },
  );
}

function bytesOf(ranges: readonly SegmentRange[]): number {
  return ranges.reduce((n, r) => n + r.end - r.start, 0);
}

function copySource(bucket: S3Bucket, rel: string): string {
  return `${bucket.bucket}/${bucket.key(rel)}`;
}

/** Writes the concatenation of `segments` (`size` bytes in all) to the object `target`. */
export async function assemble(
  bucket: S3Bucket,
  segments: readonly Segment[],
  size: number,
  target: string,
  opts: { partBytes: number; concurrency: number },
): Promise<void> {
  const { client } = bucket;
  const Bucket = bucket.bucket;
  const Key = bucket.key(target);
  if (segments.length === 1 && size <= MAX_COPY_BYTES) {
    await client.send(new CopyObjectCommand({ Bucket, Key, CopySource: copySource(bucket, segments[0]!.key) }));
    return;
  }
  const whole = segments.map((segment) => ({ segment, start: 0, end: segment.size }));
  if (size <= Math.max(opts.partBytes, MIN_PART_BYTES)) {
    await client.send(new PutObjectCommand({ Bucket, Key, Body: gather(bucket, whole), ContentLength: size }));
    return;
  }
  const parts = planParts(segments, opts.partBytes);
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  try {
    const done = await mapLimit(
      parts.map((ranges, i) => ({ ranges, PartNumber: i + 1 })),
      opts.concurrency,
      async ({ ranges, PartNumber }) => {
        if (isCopyPart(ranges)) {
          const r = ranges[0]!;
          const out = await client.send(
            new UploadPartCopyCommand({
              Bucket,
              Key,
              UploadId,
              PartNumber,
              CopySource: copySource(bucket, r.segment.key),
              CopySourceRange: `bytes=${r.start}-${r.end - 1}`,
            }),
          );
          return { PartNumber, ETag: out.CopyPartResult?.ETag };
        }
        const out = await client.send(
          new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: gather(bucket, ranges), ContentLength: bytesOf(ranges) }),
        );
        return { PartNumber, ETag: out.ETag };
      },
    );
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
  } catch (e) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw e;
  }
}
