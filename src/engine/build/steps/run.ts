import { commitImage } from '../../images/commit.js';
import { chompHeredocContent, type Instruction } from '../../../dockerfile/index.js';
import type { ContainerConfig } from '../../../oci/manifest.js';
import { BerthError } from '../../../util/errors.js';
import { advance } from '../cached-step.js';
import { runMounts } from '../mounts.js';
import { runStep } from '../run.js';
import { checkFlags, findStage, flagValue } from '../stages.js';
import { currentBase, expandWord, type StepContext } from '../state.js';

/** RUN: the command in a container of the stage's image; its changes are the step's layer. */
export async function handleRun(ins: Instruction, step: StepContext): Promise<void> {
  const { session, state, stage } = step;
  const { store, opts, plan } = session;
  checkFlags(ins, ['network', 'mount']);
  const mounts = await runMounts(store, ins, (w) => expandWord(step, w), opts.secrets ?? new Map(), {
    ctx: session.ctx,
    image: async (from) => {
      const dep = findStage(plan.stages, from, stage.index);
      const id = dep ? session.results.get(dep.index) : await session.imageIdOf(from);
      if (!id) throw new BerthError('INTERNAL', `stage ${from} has not been built`);
      return id;
    },
  });
  const argv = ins.json ? ins.args : [...shellOf(state.config), ins.heredocs.length > 0 ? heredocScript(ins) : ins.args.join(' ')];
  const argEnv = [...state.args].flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const network = flagValue(ins, 'network') ?? opts.network ?? 'default';
  // A secret's or cache's content is not part of the key: only where it is mounted.
  const limits = [...(opts.ulimits ?? []), ...(opts.securityOpt ?? [])];
  const key = `RUN ${JSON.stringify(argv)}\n${JSON.stringify(argEnv)}\n${network}${mounts.key ? `\n${mounts.key}` : ''}${limits.length ? `\n${JSON.stringify(limits)}` : ''}`;
  await advance(step, key, async (previousLayer) => {
    try {
      await mounts.prepare();
      const base = await currentBase(step);
      return await runStep(
        store,
        {
          image: state.imageId,
          argv,
          label: ins.original,
          env: [...argEnv, ...(state.config.Env ?? [])],
          user: state.config.User ?? '',
          workdir: state.config.WorkingDir ?? '/',
          ...(network === 'default' ? {} : { network }),
          times: session.times,
          volumes: mounts.volumes,
          tmpfs: mounts.tmpfs,
          exclude: mounts.stubs,
          ...(opts.ulimits?.length ? { ulimits: opts.ulimits } : {}),
          ...(opts.securityOpt?.length ? { securityOpt: opts.securityOpt } : {}),
          ...(opts.addHosts?.length ? { addHosts: opts.addHosts } : {}),
          ...(opts.out ? { output: step.say } : {}),
          signal: session.signal,
        },
        async (layer) => {
          const { record, image } = await commitImage(store, base, {
            config: state.config,
            layer,
            history: { created_by: ins.json ? `RUN ${JSON.stringify(argv)}` : argv.join(' ') },
            format: session.format,
            ...(session.created ? { created: session.created } : {}),
            ...(previousLayer ? { previousLayer } : {}),
          });
          return { id: record.id, image };
        },
      );
    } finally {
      await mounts.cleanup();
    }
  });
}

/**
 * A shell-form RUN with here-documents, as BuildKit runs it: a RUN that is only `<<EOF` runs the
 * body as its script; otherwise the shell gets the command line followed by the bodies and their
 * delimiters, and does the redirections itself.
 */
function heredocScript(ins: Instruction): string {
  const cmd = ins.args.join(' ');
  const only = ins.heredocs.length === 1 ? ins.heredocs[0]! : undefined;
  const m = /^\d*<<(-?)(["']?)(.+)\2$/s.exec(cmd.trim());
  if (only && m && m[3] === only.name) return only.chomp ? chompHeredocContent(only.content) : only.content;
  return `${cmd}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`;
}

function shellOf(config: ContainerConfig): string[] {
  const shell = config.Shell;
  return Array.isArray(shell) && shell.length > 0 ? (shell as string[]) : ['/bin/sh', '-c'];
}
