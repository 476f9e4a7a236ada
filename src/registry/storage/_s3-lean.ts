// HEAD and GET of small objects without the AWS SDK's middleware stack, signed with SigV4 here. A
// registry's reads are mostly such requests (a tag, a manifest, a link check), and through the SDK each
// cost the registry 1.2–1.5 ms of CPU against 0.45 ms this way (measured on RGW, 32 at once), which on
// a small machine shared with the object store bounds the request rate. Only for a path-style endpoint
// with keys in the config; anything but a 2xx or 404 is handed back to the SDK (and its retries).
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';

export interface LeanObject {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** An object key as S3's canonical URI wants it: every byte but the unreserved ones and "/" escaped. */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export class LeanS3 {
  private readonly url: URL;
  private signingDay = '';
  private signingKey: Buffer = Buffer.alloc(0);

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

  private key(day: string): Buffer {
    if (day !== this.signingDay) {
      const hmac = (k: string | Buffer, v: string) => createHmac('sha256', k).update(v).digest();
      this.signingKey = hmac(hmac(hmac(hmac(`AWS4${this.secretKey}`, day), this.region), 's3'), 'aws4_request');
      this.signingDay = day;
    }
    return this.signingKey;
  }

  /** The response to a signed HEAD or GET of the key (a full key, prefix included). */
  send(method: 'HEAD' | 'GET', key: string): Promise<LeanObject> {
    const base = this.url.pathname.replace(/\/+$/, '');
    const path = `${base}/${this.bucket}/${escapeKey(key)}`;
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    const host = this.url.host;
    const signed = 'host;x-amz-content-sha256;x-amz-date';
    const canonical = [method, path, '', `host:${host}`, 'x-amz-content-sha256:UNSIGNED-PAYLOAD', `x-amz-date:${amzDate}`, '', signed, 'UNSIGNED-PAYLOAD'].join(
      '\n',
    );
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
    const signature = createHmac('sha256', this.key(day)).update(toSign).digest('hex');
    const headers = {
      host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.accessKey}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
    };
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
