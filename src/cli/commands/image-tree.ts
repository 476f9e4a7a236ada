import { type Store, withStore } from '../../engine/index.js';
import { type ImageRecord, requireImage } from '../../engine/images/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { humanSizeWithPrecision } from '../output/units.js';
import { compareStrings } from '../../util/compare.js';

/** A layer of the store's layer graph: which images it tops, and the layers stacked on it. */
interface LayerNode {
  chainID: string;
  tarSize: number;
  parent?: LayerNode;
  children: LayerNode[];
  topOf: ImageRecord[];
}

/** A line of the tree with the lines hanging under it. */
interface TreeItem {
  text: string;
  items: TreeItem[];
}

const hex12 = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/** Go's `%s` of a []string, as podman prints tags: `[a b]`. */
const goList = (xs: readonly string[]) => `[${xs.join(' ')}]`;

/**
 * The graph of every image's layers. Children are kept in the order images entered the store, as
 * containers/storage lists its layers in creation order.
 */
async function layerGraph(store: Store, images: readonly ImageRecord[]): Promise<Map<string, LayerNode>> {
  const nodes = new Map<string, LayerNode>();
  const sorted = [...images].sort((a, b) => compareStrings(a.added, b.added));
  for (const image of sorted) {
    let parent: LayerNode | undefined;
    for (const chainID of image.layers) {
      let node = nodes.get(chainID);
      if (!node) {
        const record = await store.layers.get(chainID);
        node = { chainID, tarSize: record?.tarSize ?? 0, children: [], topOf: [], ...(parent ? { parent } : {}) };
        nodes.set(chainID, node);
        parent?.children.push(node);
      }
      parent = node;
    }
    parent?.topOf.push(image);
  }
  return nodes;
}

function layerLine(node: LayerNode): string {
  const tags = node.topOf.flatMap((i) => i.names.filter((n) => !n.includes('@')));
  // go-units at precision 4, right-aligned in 7 columns (`%7v`).
  return `ID: ${hex12(node.chainID)} Size: ${humanSizeWithPrecision(node.tarSize, 4).padStart(7)}${tags.length ? ` Top Layer of: ${goList(tags)}` : ''}`;
}

/**
 * Everything built on a layer: a layer with siblings opens a branch of its own, one without
 * continues the line it is on (podman's --whatrequires shape).
 */
function addDescendants(node: LayerNode, into: TreeItem): void {
  const item: TreeItem = { text: layerLine(node), items: [] };
  into.items.push(item);
  const branches = node.parent !== undefined && node.parent.children.length > 1;
  const next = branches ? item : into;
  for (const child of node.children) addDescendants(child, next);
}

/** The tree drawn with box-drawing branches, as gotree prints it. */
function draw(root: TreeItem): string {
  const lines = [root.text];
  const walk = (items: TreeItem[], indent: string) => {
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      lines.push(`${indent}${last ? '└── ' : '├── '}${item.text}`);
      walk(item.items, indent + (last ? '    ' : '│   '));
    });
  };
  walk(root.items, '');
  return `${lines.join('\n')}\n`;
}

/**
 * `berth image tree IMAGE`: the image's layers bottom first, each with the images it is the top
 * layer of; with --whatrequires, the layers built on the image's top layer instead.
 */
export async function run(g: GlobalOptions, name: string, f: { whatrequires?: boolean }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const images = await store.images();
    const image = requireImage(images, name);
    const nodes = await layerGraph(store, images);
    const layerSizes = [...image.layers].reduce((sum, id) => sum + (nodes.get(id)?.tarSize ?? 0), 0);
    const [manifest, config] = await Promise.all([store.blobs.stat(image.manifestDigest), store.blobs.stat(image.id)]);
    const size = layerSizes + (manifest?.size ?? 0) + (config?.size ?? 0);
    const tags = image.names.filter((n) => !n.includes('@'));
    const header = [
      `Image ID: ${hex12(image.id)}`,
      `Tags:     ${goList(tags)}`,
      `Size:     ${humanSizeWithPrecision(size, 4)}`,
      image.layers.length ? 'Image Layers' : 'No Image Layers',
    ].join('\n');
    const root: TreeItem = { text: header, items: [] };
    const top = image.layers.length ? nodes.get(image.layers.at(-1)!) : undefined;
    if (top && f.whatrequires) addDescendants(top, root);
    else for (const id of image.layers) root.items.push({ text: layerLine(nodes.get(id)!), items: [] });
    // podman prints the tree with Println: a blank line after it.
    process.stdout.write(`${draw(root)}\n`);
  });
}
