import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

const verb = (name: keyof typeof import('./commands/secret.js')) => async () => ({ run: (await import('./commands/secret.js'))[name] });

/** `berth secret ...`, podman's verbs and flags. */
export function addSecretCommands(define: Define, lazy: Lazy): void {
  define('secret', () => {
    const secret = new Command('secret').description('Manage secrets');
    secret.addCommand(
      new Command('create')
        .description('Create a new secret from a file, stdin (-) or an environment variable (--env)')
        .argument('<name>')
        .argument('<source>', 'FILE, - for stdin, or with --env the name of an environment variable')
        .option('-d, --driver <driver>', 'secret driver (file)', 'file')
        .option('-l, --label <key=value>', 'set a label', collect, [])
        .option('--env', 'read the secret data from the environment variable named by SOURCE')
        .option('--replace', 'replace a secret of the same name')
        .action(lazy(verb('runCreate'))),
    );
    secret.addCommand(
      new Command('ls')
        .alias('list')
        .description('List secrets')
        .option('-q, --quiet', 'print only secret IDs')
        .option('--noheading', 'do not print column headings')
        .option('-f, --filter <filter>', 'name=, id=', collect, [])
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .action(lazy(verb('runList'))),
    );
    secret.addCommand(
      new Command('inspect')
        .description('Display detailed information on secrets')
        .argument('<secrets...>')
        .option('-f, --format <format>', 'Go template or json')
        .option('--pretty', 'print in a human-readable format')
        .option('--showsecret', 'include the secret data (SecretData)')
        .action(lazy(verb('runInspect'))),
    );
    secret.addCommand(
      new Command('rm')
        .alias('remove')
        .description('Remove secrets')
        .argument('[secrets...]')
        .option('-a, --all', 'remove all secrets')
        .action(lazy(verb('runRemove'))),
    );
    return secret;
  });
}
