// An esbuild plugin for the CLI bundle: an import of names from one of the engine's faces (an
// index.ts that only re-exports) becomes imports from the modules that define them.
//
// Why: esbuild's code splitting gives each command every module its imports reach, used or not, so a
// command importing `engine/containers/index.js` for one function loaded every module that face
// re-exports (ps went from 330 kB to 650 kB of code). The sources keep importing only faces (the
// architecture test checks that); the bundle imports what each command uses, as before the faces.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const IMPORT = /\b(import|export)\s+(type\s+)?\{([^}]*)\}\s*from\s*'(\.{1,2}\/[^']+)';?/g;
const FACE = /\/src\/engine(?:\/[a-z-]+)?\/index\.ts$/;
const toTs = (p) => p.replace(/\.js$/, '.ts');

/** A face's exported names: name -> { file, name } of the module that defines it (types left out). */
function faceExports(face, cache) {
  let map = cache.get(face);
  if (map) return map;
  map = new Map();
  cache.set(face, map);
  const text = readFileSync(face, 'utf8');
  for (const m of text.matchAll(/export\s*\*\s*from\s*'([^']+)'/g)) {
    for (const [k, v] of faceExports(resolve(dirname(face), toTs(m[1])), cache)) map.set(k, v);
  }
  for (const m of text.matchAll(IMPORT)) {
    if (m[1] !== 'export' || m[2]) continue;
    const target = resolve(dirname(face), toTs(m[4]));
    for (const spec of m[3]
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('type '))) {
      const [name, alias = name] = spec.split(/\s+as\s+/);
      map.set(alias, FACE.test(target) ? faceExports(target, cache).get(name) : { file: target, name });
    }
  }
  return map;
}

export const flattenFaces = {
  name: 'flatten-faces',
  setup(build) {
    const cache = new Map();
    build.onLoad({ filter: /\/src\/cli\/.*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const dir = dirname(args.path);
      const contents = source.replace(IMPORT, (whole, kind, typeOnly, names, spec) => {
        const face = resolve(dir, toTs(spec));
        if (typeOnly || !FACE.test(face)) return whole;
        const exports = faceExports(face, cache);
        const byFile = new Map();
        for (const s of names
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x && !x.startsWith('type '))) {
          const [name, local = name] = s.split(/\s+as\s+/);
          const from = exports.get(name);
          if (!from) throw new Error(`${args.path}: ${spec} has no export ${name}`);
          const list = byFile.get(from.file) ?? [];
          list.push(from.name === local ? local : `${from.name} as ${local}`);
          byFile.set(from.file, list);
        }
        return [...byFile]
          .map(([file, list]) => {
            let rel = relative(dir, file).replace(/\.ts$/, '.js');
            if (!rel.startsWith('.')) rel = `./${rel}`;
            return `${kind} { ${list.join(', ')} } from '${rel}';`;
          })
          .join('\n');
      });
      if (/import\(\s*'[^']*\/engine(?:\/[a-z-]+)?\/index\.js'\s*\)/.test(contents)) {
        throw new Error(`${args.path}: a face imported with import() is loaded whole; import it from a small module of the command instead`);
      }
      return { contents, loader: 'ts' };
    });
  },
};
