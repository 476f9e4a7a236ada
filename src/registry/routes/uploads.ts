// Blob uploads: POST starts one (or uploads monolithically with ?digest=, or mounts with ?mount=&from=),
// PATCH appends a chunk in order, PUT finishes with ?digest=, GET tells the progress, DELETE cancels.
import { isValidName, checkDigest } from '../names.js';
import { isRegistryError, RegistryError } from '../errors.js';
import type { UploadStatus } from '../storage/types.js';
import { empty, requestBody, type Handler, type RegistryContext } from './_http.js';

function uploadHeaders(s: UploadStatus): Record<string, string> {
  return {
    Location: `/v2/${s.repository}/blobs/uploads/${s.id}`,
    // As the reference registry writes it: inclusive, and 0-0 for an empty upload.
    Range: `0-${Math.max(s.size - 1, 0)}`,
    'Docker-Upload-UUID': s.id,
    'Blob-Upload-Session-ID': s.id,
  };
}

function created(name: string, digest: string): Response {
  return empty(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/** The start offset a PATCH or PUT claims in Content-Range (`start-end`, optionally `bytes ` first); undefined without one. */
function claimedOffset(c: RegistryContext, s: UploadStatus): number | undefined {
  const header = c.req.header('content-range');
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const length = c.req.header('content-length');
  if (!m || Number(m[2]) < Number(m[1]) || (length !== undefined && Number(length) !== Number(m[2]) - Number(m[1]) + 1)) {
    throw rangeError(s, `invalid Content-Range "${header}"`);
  }
  return Number(m[1]);
}

function rangeError(s: UploadStatus, message: string): RegistryError {
  return new RegistryError('RANGE_INVALID', message, { headers: uploadHeaders(s) });
}

/** Appends the request body at `offset`, turning an out-of-order append into a 416 with the session's state. */
async function append(c: RegistryContext, s: UploadStatus, offset: number, storage: Parameters<Handler>[1]['storage']): Promise<UploadStatus> {
  try {
    return await storage.uploads.append(s.repository, s.id, offset, requestBody(c));
  } catch (e) {
    if (isRegistryError(e, 'RANGE_INVALID')) throw rangeError(await storage.uploads.status(s.repository, s.id), e.message);
    throw e;
  }
}

export const startUpload: Handler = async (c, { storage, target }) => {
  const name = target.name;
  const mount = c.req.query('mount');
  const from = c.req.query('from');
  if (mount !== undefined && from !== undefined && isValidName(from)) {
    const digest = checkDigest(mount);
    if (await storage.links.stat(from, digest)) {
      await storage.links.link(name, digest);
      return created(name, digest);
    }
  }
  const digestParam = c.req.query('digest');
  const digest = digestParam === undefined ? undefined : checkDigest(digestParam);
  const session = await storage.uploads.create(name);
  if (digest === undefined) {
    requestBody(c).resume();
    return empty(202, uploadHeaders(session));
  }
  try {
    await storage.uploads.append(name, session.id, 0, requestBody(c));
    await storage.uploads.finish(name, session.id, digest);
  } catch (e) {
    await storage.uploads.cancel(name, session.id).catch(() => undefined);
    throw e;
  }
  return created(name, digest);
};

export const patchUpload: Handler = async (c, { storage, target }) => {
  const s = await storage.uploads.status(target.name, target.ref!);
  const offset = claimedOffset(c, s) ?? s.size;
  if (offset !== s.size) throw rangeError(s, `chunk starts at ${offset} but the upload has ${s.size} bytes`);
  return empty(202, uploadHeaders(await append(c, s, offset, storage)));
};

export const putUpload: Handler = async (c, { storage, target }) => {
  const s = await storage.uploads.status(target.name, target.ref!);
  const digestParam = c.req.query('digest');
  if (digestParam === undefined) throw new RegistryError('DIGEST_INVALID', 'finishing an upload needs ?digest=');
  const digest = checkDigest(digestParam);
  const offset = claimedOffset(c, s);
  const hasBody = offset !== undefined || Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
  if (offset !== undefined && offset !== s.size) throw rangeError(s, `chunk starts at ${offset} but the upload has ${s.size} bytes`);
  if (hasBody) await append(c, s, s.size, storage);
  await storage.uploads.finish(target.name, s.id, digest);
  return created(target.name, digest);
};

export const getUpload: Handler = async (_c, { storage, target }) => {
  return empty(204, uploadHeaders(await storage.uploads.status(target.name, target.ref!)));
};

export const cancelUpload: Handler = async (_c, { storage, target }) => {
  await storage.uploads.cancel(target.name, target.ref!);
  return empty(204);
};
