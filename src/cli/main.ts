#!/usr/bin/env node
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { runGateway } from './gateway.js';
import { runValidate } from './validate.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command()
  .name('sekisho')
  .description('An API gateway and a service mesh in one package.')
  .version(version);

program
  .command('gateway')
  .description('run a standalone gateway from a config file')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--no-watch', 'do not reload when the file changes (SIGHUP still reloads)')
  .action(async (opts: { config: string; watch: boolean }) => {
    process.exitCode = await runGateway(opts.config, opts.watch);
  });

program
  .command('validate')
  .description('check a config file: exit 0, or exit 1 listing every error as FILE:LINE:COL key.path: message')
  .argument('<file>', 'config file (YAML)')
  .action(async (file: string) => {
    process.exitCode = await runValidate(file);
  });

await program.parseAsync();
