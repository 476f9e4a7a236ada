// HEAD and GET of small objects without the AWS SDK's middleware stack, signed (SigV4) by the aws4
// package. A registry's reads are mostly such requests (a tag, a manifest, a link check), and through
// the SDK each cost the registry 1.2–1.5 ms of CPU against 0.45 ms this way (measured on RGW, 32 at
// once), which on a small machine shared with the object store bounds the request rate. Only for a
// path-style endpoint with keys in the config; anything but a 2xx or 404 is handed back to the SDK
// (and its retries).
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import aws4 from 'aws4';

export interface LeanObject {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** An object key as S3's canonical URI wants it: every byte but the unreserved ones and "/" escaped. */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export class LeanS3 {
  private readonly url: URL;

  constructor(
    endpoint: string,
    private readonly bucket: string,
    private readonly region: string,
    private readonly accessKey: string,
    private readonly secretKey: string,
    private readonly agent: HttpAgent | HttpsAgent,
  ) {
    this.url = new URL(endpoint);
  }

  /** The response to a signed HEAD or GET of the key (a full key, prefix included). */
  send(method: 'HEAD' | 'GET', key: string): Promise<LeanObject> {
    const base = this.url.pathname.replace(/\/+$/, '');
    const path = `${base}/${this.bucket}/${escapeKey(key)}`;
    const signed = aws4.sign(
      { host: this.url.host, path, method, service: 's3', region: this.region, headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } },
      { accessKeyId: this.accessKey, secretAccessKey: this.secretKey },
    );
    const headers = signed.headers as OutgoingHttpHeaders;
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request({ hostname: this.url.hostname, port: this.url.port, path, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}

/** The x-amz-meta-* headers as the SDK gives Metadata: names without the prefix. */
export function metadataOf(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') out[k.slice(11)] = v;
  return out;
}
