#!/usr/bin/env node
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { SidecarCliOptions } from './sidecar.js';

// Each command's module is imported when the command runs, so a sidecar never loads the
// gateway's filters (ioredis, jose) or the control plane's CA code: less memory per process.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command()
  .name('sekisho')
  .description('An API gateway and a service mesh in one package.')
  .version(version)
  // `sekisho sidecar --version v2` is the instance's version, not the program's.
  .enablePositionalOptions();

program
  .command('up')
  .description('run the whole mesh of a file on this machine: control plane, gateway, apps and their sidecars')
  .argument('[file]', 'config file (YAML)', 'sekisho.yaml')
  .action(async (file: string) => {
    process.exitCode = await (await import('./up.js')).runUp(file);
  });

program
  .command('gateway')
  .description('run a gateway: standalone from a config file, or a mesh member with --control-plane')
  .option('-c, --config <file>', 'config file (YAML), standalone mode')
  .option('--no-watch', 'do not reload when the file changes (SIGHUP still reloads)')
  .option('--control-plane <urls>', "the control plane's TLS address(es), comma-separated (mesh member)")
  .option('--token <token>', 'join token for the first certificate (default $SEKISHO_JOIN_TOKEN)')
  .option('--name <name>', "the gateway's name: identity spiffe://<mesh>/gateway/<name>", 'gateway')
  .option('--ca <file>', 'mesh CA certificate to verify the control plane with (default $SEKISHO_CA)')
  .option('--state-dir <dir>', 'where the last certificate and config are kept (default .sekisho/gateway-<name>)')
  .action(async (opts: { config?: string; watch: boolean; controlPlane?: string; token?: string; name: string; ca?: string; stateDir?: string }) => {
    process.exitCode = await (await import('./gateway.js')).runGateway(opts);
  });

program
  .command('sidecar')
  .description('run the sidecar of one app instance')
  .requiredOption('--service <name>', 'the service this instance belongs to')
  .option('--version <label>', 'the version this instance runs', 'v1')
  .requiredOption('--app-port <port>', "the app's port on 127.0.0.1")
  .option('--control-plane <urls>', "the control plane's TLS address(es), comma-separated", 'https://127.0.0.1:15012')
  .option('--token <token>', 'join token for the first certificate (default $SEKISHO_JOIN_TOKEN)')
  .option('--inbound <addr>', 'mTLS listener for the mesh (a port alone means 127.0.0.1)', '127.0.0.1:15006')
  .option('--outbound <addr>', 'plain HTTP listener for the app, on loopback', '127.0.0.1:15001')
  .option('--admin <addr>', 'admin listener', '127.0.0.1:15020')
  .option('--ca <file>', 'mesh CA certificate to verify the control plane with (default $SEKISHO_CA)')
  .option('--state-dir <dir>', 'where the last certificate and config are kept (default .sekisho/sidecar-<service>-<inbound port>)')
  .action(async (opts: SidecarCliOptions) => {
    keepYoungGenerationSmall();
    process.exitCode = await (await import('./sidecar.js')).runSidecar(opts);
  });

program
  .command('control-plane')
  .description('run the control plane: CA, registry, config push, admin API')
  .requiredOption('-c, --config <file>', 'config file (YAML)')
  .option('--store <url>', 'memory | file:DIR (overrides controlPlane.store)')
  .option('--ca-out <file>', 'write the mesh CA certificate here once ready (for proxies started with --ca)')
  .option('--listen <addr>', 'admin API address (overrides controlPlane.listen)')
  .option('--xds <addr>', 'push-channel TLS address (overrides controlPlane.xds)')
  .action(async (opts: { config: string; store?: string; caOut?: string; listen?: string; xds?: string }) => {
    process.exitCode = await (await import('./control-plane.js')).runControlPlane(opts);
  });

program
  .command('ctl')
  .description('ask a running control plane: status | services | routes | certs | split SERVICE v1=95 v2=5')
  .argument('<command>', 'status | services | routes | certs | split')
  .argument('[args...]', 'for split: SERVICE VERSION=WEIGHT…')
  .option('--control-plane <url>', "the control plane's admin address", 'http://127.0.0.1:15000')
  .option('--json', 'print the JSON answer', false)
  .option('--token <token>', 'admin token (default $SEKISHO_ADMIN_TOKEN)')
  .action(async (command: string, args: string[], opts: { controlPlane: string; json: boolean; token?: string }) => {
    process.exitCode = await (await import('./ctl.js')).runCtl(command, args, opts);
  });

program
  .command('validate')
  .description('check a config file: exit 0, or exit 1 listing every error as FILE:LINE:COL key.path: message')
  .argument('<file>', 'config file (YAML)')
  .action(async (file: string) => {
    process.exitCode = await (await import('./validate.js')).runValidate(file);
  });

/**
 * A sidecar runs beside every app instance, so its resident size counts for more than its peak
 * throughput. V8's young generation grows from 2 × 1 MB to 2 × 16 MB (startup alone grows it),
 * about 14 MB of a sidecar's RSS. Its maximum (--max-semi-space-size) is fixed once the heap is
 * set up, before this code runs, but the growth factor is read at each scavenge: at 1 the young
 * generation stays at its initial size. Measured (bench s4/s5): sidecar RSS −14 MB idle and
 * −18 MB at 1,000 req/s, for about 7 % of the mesh pair's max req/s. A semi-space size given on
 * the command line or in NODE_OPTIONS (e.g. --max-semi-space-size=16) wins over this.
 */
function keepYoungGenerationSmall(): void {
  const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((arg) => /semi[-_]space/.test(arg));
  if (!given) setFlagsFromString('--semi-space-growth-factor=1');
}

await program.parseAsync();

// A command that failed is over: whatever it had opened before failing (a listener, a
// control-plane connection) must not keep the process alive as a half-started proxy.
if (process.exitCode !== undefined && process.exitCode !== 0) process.exit();
