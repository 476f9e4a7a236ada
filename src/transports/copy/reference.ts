/** skopeo's `transport:reference` names, parsed. */
import { parseNormalizedNamed, type ImageReference } from '../../oci/reference.js';
import { BerthError } from '../../util/errors.js';

/**
 * skopeo copy: one image from any transport to any other, streamed (layers go from the source's
 * reader straight into the destination's writer).
 *
 *   docker://REF                 a registry
 *   oci:DIR[:REF]                an OCI layout directory (REF: the org.opencontainers.image.ref.name)
 *   oci-archive:FILE[:REF]       a tar of an OCI layout
 *   docker-archive:FILE[:REF]    docker save's format (REF: a RepoTag in it, or the name to write)
 *   dir:DIR                      skopeo's directory of loose files (manifest.json and blobs by digest)
 *   berth:NAME                   berth's own store (containers-storage:NAME is taken to mean it too)
 */
export type TransportRef =
  | { transport: 'docker'; ref: ImageReference }
  | { transport: 'oci' | 'oci-archive' | 'docker-archive'; path: string; name?: string }
  | { transport: 'dir'; path: string }
  | { transport: 'berth'; name: string };

export function parseTransportRef(input: string): TransportRef {
  const colon = input.indexOf(':');
  const transport = colon === -1 ? '' : input.slice(0, colon);
  const rest = input.slice(colon + 1);
  switch (transport) {
    case 'docker': {
      if (!rest.startsWith('//')) throw new BerthError('USAGE', `${input}: a docker transport reference is docker://NAME`);
      return { transport: 'docker', ref: parseNormalizedNamed(rest.slice(2)) };
    }
    case 'oci':
    case 'oci-archive':
    case 'docker-archive': {
      // PATH[:REF]: the path is up to the first colon (skopeo's rule), the rest names the image.
      const sep = rest.indexOf(':');
      const path = sep === -1 ? rest : rest.slice(0, sep);
      const name = sep === -1 ? undefined : rest.slice(sep + 1);
      if (path === '') throw new BerthError('USAGE', `${input}: a path is needed after ${transport}:`);
      return { transport, path, ...(name ? { name } : {}) };
    }
    case 'dir':
      if (rest === '') throw new BerthError('USAGE', `${input}: a path is needed after dir:`);
      return { transport: 'dir', path: rest };
    case 'berth':
    case 'containers-storage':
      if (rest === '') throw new BerthError('USAGE', `${input}: an image name is needed after ${transport}:`);
      return { transport: 'berth', name: rest };
    default:
      throw new BerthError('USAGE', `${input}: unknown transport "${transport}": use docker://, oci:, oci-archive:, docker-archive:, dir: or berth:`);
  }
}
