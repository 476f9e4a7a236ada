import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

const verb = (name: keyof typeof import('./commands/volume.js')) => async () => ({ run: (await import('./commands/volume.js'))[name] });

/** `berth volume ...`, podman's verbs and flags. */
export function addVolumeCommands(define: Define, lazy: Lazy): void {
  define('volume', () => {
    const volume = new Command('volume').description('Manage volumes');
    volume.addCommand(
      new Command('create')
        .description('Create a volume')
        .argument('[name]')
        .option('-l, --label <key=value>', 'set a label', collect, [])
        .option('-o, --opt <key=value>', 'driver option', collect, [])
        .option('-d, --driver <driver>', 'volume driver (local)')
        .option('--ignore', 'do not fail if the volume already exists')
        .action(lazy(verb('runCreate'))),
    );
    volume.addCommand(
      new Command('ls')
        .alias('list')
        .description('List volumes')
        .option('-q, --quiet', 'print only volume names')
        .option('-n, --noheading', 'do not print column headings')
        .option('-f, --filter <filter>', 'name=, label=, dangling=, driver=, anonymous=', collect, [])
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .action(lazy(verb('runList'))),
    );
    volume.addCommand(
      new Command('inspect')
        .description('Display detailed information on volumes')
        .argument('[names...]')
        .option('-a, --all', 'inspect all volumes')
        .option('-f, --format <format>', 'Go template or json')
        .action(lazy(verb('runInspect'))),
    );
    volume.addCommand(
      new Command('rm')
        .alias('remove')
        .description('Remove volumes')
        .argument('[names...]')
        .option('-a, --all', 'remove all volumes')
        .option('-f, --force', 'remove the containers that use the volume too')
        .option('-t, --time <seconds>', 'seconds to wait for those containers to stop')
        .action(lazy(verb('runRemove'))),
    );
    volume.addCommand(
      new Command('prune')
        .description('Remove all volumes no container uses')
        .option('-f, --force', 'do not prompt for confirmation')
        .option('--filter <filter>', 'label=, name=', collect, [])
        .action(lazy(verb('runPrune'))),
    );
    const data = (name: keyof typeof import('./commands/volume-data.js')) => async () => ({ run: (await import('./commands/volume-data.js'))[name] });
    volume.addCommand(
      new Command('export')
        .description("Write a volume's content as a tar")
        .argument('<volume>')
        .option('-o, --output <file>', 'write to a file instead of stdout')
        .action(lazy(data('runExport'))),
    );
    volume.addCommand(
      new Command('import')
        .description('Unpack a tar (plain, gzip or zstd) into a volume')
        .argument('<volume>')
        .argument('<source>', 'a tar file, or - for stdin')
        .action(lazy(data('runImport'))),
    );
    volume.addCommand(
      new Command('mount')
        .description("Print where a volume's content is")
        .argument('<volumes...>')
        .action(lazy(data('runMount'))),
    );
    volume.addCommand(
      new Command('unmount')
        .alias('umount')
        .description('Unmount a volume (nothing to do for a local one)')
        .argument('<volumes...>')
        .action(lazy(data('runUnmount'))),
    );
    volume.addCommand(
      new Command('exists')
        .description('Exit 0 if the volume exists, 1 if not')
        .argument('<name>')
        .action(lazy(verb('runExists'))),
    );
    return volume;
  });
}
