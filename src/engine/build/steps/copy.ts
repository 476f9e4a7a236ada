import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { diffDirectory } from '../../../archive/diff.js';
import { commitImage } from '../../images/commit.js';
import { chompHeredocContent, processWord, type Instruction } from '../../../dockerfile/index.js';
import { BerthError } from '../../../util/errors.js';
import { trace } from '../../../util/trace.js';
import { advance } from '../cached-step.js';
import { contextSources, hashSources, type CopySource, type WalkedSources } from '../context.js';
import { copyInto, copyLayer, imageSources, keepParents, ownerOf, type CopyPlan } from '../copy.js';
import { downloadUrl, isRemoteSource, parseChecksum } from '../remote.js';
import { checkFlags, findStage, flagValue, flagValues } from '../stages.js';
import { currentBase, expandWord, variablesOf, type StepContext } from '../state.js';

/** What a COPY or ADD was asked to do, its words expanded and its flags checked. */
interface CopyRequest {
  keyword: 'copy' | 'add';
  /** Every source word, expanded; then those that are not URLs, and those that are. */
  allSrcWords: string[];
  srcWords: string[];
  urlWords: string[];
  dest: string;
  chownSpec: string | undefined;
  mode: number | undefined;
  fromRef: string | undefined;
  parents: boolean;
  excludes: string[];
  checksum: ReturnType<typeof parseChecksum> | undefined;
  /** The flags as they go into the cache key and the history. */
  flags: string;
}

/** COPY and ADD: sources from the context, a stage, an image or a URL, copied into a new layer. */
export async function handleCopy(ins: Instruction, step: StepContext): Promise<void> {
  const { session, state, stage } = step;
  const { store } = session;
  const req = copyRequest(ins, step);
  const { srcWords, urlWords, dest, parents } = req;
  let sourceKey: string;
  let sourceImage: string | undefined;
  let ctxSources: CopySource[] | undefined;
  let walked: WalkedSources | undefined;
  // A URL is fetched before the cache is asked: its content's digest is part of the key.
  const downloadDir = urlWords.length > 0 ? await store.tmp.make('build-add') : undefined;
  try {
    const downloads: CopySource[] = [];
    let urlKey = '';
    for (const u of urlWords) {
      const d = await downloadUrl(u, downloadDir!, req.checksum, session.signal);
      downloads.push({ path: d.path, rel: d.name, name: d.name, isDir: false, noExtract: true });
      urlKey += ` ${u} ${d.digest}`;
    }
    if (req.fromRef !== undefined) {
      const dep = findStage(session.plan.stages, req.fromRef, stage.index);
      sourceImage = dep ? session.results.get(dep.index) : await session.imageIdOf(req.fromRef);
      if (!sourceImage) throw new BerthError('INTERNAL', `stage ${req.fromRef} has not been built`);
      sourceKey = `from ${sourceImage} ${JSON.stringify(srcWords)}`;
    } else {
      const { docs, key: docKey } = await heredocSources(ins, req, step);
      const ctxWords = srcWords.filter((_, i) => !docs[i]);
      const fromCtx = ctxWords.flatMap((s) => (parents ? keepParents(contextSources(session.ctx, s), s) : contextSources(session.ctx, s)));
      ctxSources = [...fromCtx, ...docs.filter((d): d is CopySource => d !== undefined), ...downloads];
      const urls = urlKey ? ` url${urlKey}` : '';
      trace('build: hashing COPY sources');
      // One walk of the sources: the hash reads what the copy then writes, if the cache misses.
      const hashed = await hashSources(fromCtx, session.ctx);
      walked = hashed.walked;
      sourceKey = `context ${JSON.stringify(srcWords)}${urls} ${hashed.digest}${docKey ? ` ${createHash('sha256').update(docKey).digest('hex')}` : ''}`;
    }
    const key = `${ins.keyword.toUpperCase()} ${req.flags}${sourceKey} ${dest}`;
    trace('build: COPY sources hashed');
    await advance(step, key, async (previousLayer) => {
      const base = await currentBase(step);
      const layer = await copyLayer(store, base.chain, sourceImage, async (root, sourceRoot) => {
        const owner = req.chownSpec === undefined ? undefined : await ownerOf(root, req.chownSpec);
        const fromImage = async () =>
          (
            await Promise.all(srcWords.map(async (w) => (parents ? keepParents(await imageSources(sourceRoot!, [w]), w) : imageSources(sourceRoot!, [w]))))
          ).flat();
        const sources = ctxSources ?? (await fromImage());
        const plan: CopyPlan = {
          sources,
          dest,
          ...(owner ? { owner } : {}),
          ...(req.mode !== undefined ? { mode: req.mode } : {}),
          ...(ctxSources ? { ctx: session.ctx } : {}),
          ...(walked ? { walked } : {}),
          extractArchives: req.keyword === 'add',
          parents,
          exclude: req.excludes,
        };
        await copyInto(root, plan);
      });
      trace('build: COPY layer filled');
      try {
        const { record, image } = await commitImage(store, base, {
          config: state.config,
          layer: diffDirectory(layer.upper, session.times),
          history: { created_by: `/bin/sh -c #(nop) ${ins.keyword.toUpperCase()} ${req.flags}${sourceKey.split(' ').at(-1)} in ${dest}` },
          format: session.format,
          ...(session.created ? { created: session.created } : {}),
          ...(previousLayer ? { previousLayer } : {}),
        });
        return { id: record.id, image };
      } finally {
        await rm(layer.dir, { recursive: true, force: true });
      }
    });
  } finally {
    if (downloadDir) await rm(downloadDir, { recursive: true, force: true });
  }
}

/** Reads a COPY or ADD: its sources, destination and flags, checked as BuildKit checks them. */
function copyRequest(ins: Instruction, step: StepContext): CopyRequest {
  const expand = (w: string) => expandWord(step, w);
  const keyword = ins.keyword === 'copy' ? 'copy' : 'add';
  checkFlags(ins, keyword === 'copy' ? ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'] : ['chown', 'chmod', 'link', 'checksum', 'parents', 'exclude']);
  const words = ins.args.map(expand);
  if (words.length < 2) throw new BerthError('DOCKERFILE_INVALID', `${ins.keyword.toUpperCase()} requires at least two arguments (line ${ins.startLine})`);
  const destWord = words.at(-1)!;
  const allSrcWords = words.slice(0, -1);
  const urlWords = keyword === 'add' ? allSrcWords.filter(isRemoteSource) : [];
  const srcWords = allSrcWords.filter((w) => !urlWords.includes(w));
  const checksumWord = flagValue(ins, 'checksum');
  const checksum = checksumWord === undefined ? undefined : parseChecksum(expand(checksumWord), ins.startLine);
  if (checksum !== undefined && (urlWords.length !== 1 || srcWords.length > 0)) {
    throw new BerthError('DOCKERFILE_INVALID', `ADD --checksum needs exactly one URL source (line ${ins.startLine})`);
  }
  if (keyword === 'add' && srcWords.some((s) => /^[a-z]+:\/\//i.test(s))) {
    throw new BerthError(
      'DOCKERFILE_INVALID',
      `ADD: only http and https URLs can be fetched: ${srcWords.find((s) => /^[a-z]+:\/\//i.test(s))} (line ${ins.startLine})`,
    );
  }
  const workdir = step.state.config.WorkingDir || '/';
  const joined = posix.isAbsolute(destWord) ? destWord : posix.join(workdir, destWord);
  const dest = (destWord.endsWith('/') || destWord === '.') && !joined.endsWith('/') ? `${joined}/` : joined;
  const chown = flagValue(ins, 'chown');
  const chmodWord = flagValue(ins, 'chmod');
  const chownSpec = chown === undefined ? undefined : expand(chown);
  let mode: number | undefined;
  if (chmodWord !== undefined) {
    mode = Number.parseInt(expand(chmodWord), 8);
    if (!/^[0-7]{3,4}$/.test(expand(chmodWord)))
      throw new BerthError('DOCKERFILE_INVALID', `invalid --chmod=${chmodWord}: an octal mode is expected (line ${ins.startLine})`);
  }
  const fromWord = flagValue(ins, 'from');
  const fromRef = fromWord === undefined ? undefined : expand(fromWord);
  const parentsWord = flagValue(ins, 'parents');
  if (parentsWord !== undefined && !['true', 'false'].includes(parentsWord))
    throw new BerthError('DOCKERFILE_INVALID', `invalid --parents=${parentsWord}: true or false (line ${ins.startLine})`);
  const parents = parentsWord === 'true';
  const excludes = flagValues(ins, 'exclude').map(expand);
  const flags = `${chownSpec !== undefined ? `--chown=${chownSpec} ` : ''}${chmodWord !== undefined ? `--chmod=${mode!.toString(8)} ` : ''}${parents ? '--parents ' : ''}${excludes.map((e) => `--exclude=${JSON.stringify(e)} `).join('')}`;
  return { keyword, allSrcWords, srcWords, urlWords, dest, chownSpec, mode, fromRef, parents, excludes, checksum, flags };
}

/**
 * Here-documents become files of their own, named after their delimiter. Returns, for each source
 * word (by position), its here-document's file or undefined, and what of them goes into the key.
 */
async function heredocSources(ins: Instruction, req: CopyRequest, step: StepContext): Promise<{ docs: (CopySource | undefined)[]; key: string }> {
  const byName = new Map(ins.heredocs.map((h) => [h.name, h]));
  const docOf = (raw: string) => {
    const m = /^<<-?(["']?)(.+)\1$/s.exec(raw);
    return m ? byName.get(m[2]!) : undefined;
  };
  const docWords = ins.args
    .slice(0, -1)
    .filter((_, i) => !req.urlWords.includes(req.allSrcWords[i]!))
    .map(docOf);
  const heredocDir = docWords.some(Boolean) ? await step.session.store.tmp.make('heredoc') : undefined;
  const docs: (CopySource | undefined)[] = [];
  let key = '';
  for (const h of docWords) {
    if (!h) {
      docs.push(undefined);
      continue;
    }
    let content = h.chomp ? chompHeredocContent(h.content) : h.content;
    if (h.expand) content = processWord(content, variablesOf(step.state), { ...step.session.lex, skipProcessQuotes: true });
    await writeFile(join(heredocDir!, h.name), content, { mode: 0o644 });
    docs.push({ path: join(heredocDir!, h.name), rel: h.name, isDir: false });
    key += `${h.name}\0${content}\0`;
  }
  return { docs, key };
}
