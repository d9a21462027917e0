/**
 * Sekisho's gateway as a benchmark target: the built CLI (`dist/cli/main.js gateway -c`) on a
 * generated config that routes `/api` to the upstream with the prefix stripped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, freePort, PROXY_CORE, start, waitForAnswer } from '../lib/process.js';
import { BODY_BYTES, PROXIED_PATH, type StartedTarget, type Target } from './target.js';

export interface SekishoOptions {
  readonly name: string;
  /**
   * `SEKISHO_LOG_LEVEL`. `warn` silences the per-request access log (throughput runs); `info`
   * writes it, as a production gateway would.
   */
  readonly logLevel: 'warn' | 'info';
  /** Lines added to the `gateway:` section (indented two spaces), e.g. the edge policies. */
  readonly gatewayYaml?: string;
  /** Headers the benchmark's requests carry (a token, an Origin), also sent by the readiness check. */
  readonly requestHeaders?: Record<string, string>;
  /** Extra `node` flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

export function sekishoUnavailable(): string | undefined {
  return existsSync(CLI) ? undefined : `${CLI} is missing: run \`npm run build\` first`;
}

/**
 * Writes the gateway config for `upstreamPort` into `dir`; returns its path and listen port. The
 * admin listener takes any free port: nothing here reads it, and a port picked in advance can be
 * taken by another process before the gateway binds it.
 */
export async function writeGatewayConfig(
  dir: string,
  upstreamPort: number,
  gatewayYaml = '',
): Promise<{ file: string; port: number }> {
  const port = await freePort();
  const file = join(dir, 'sekisho.yaml');
  writeFileSync(
    file,
    `gateway:
  listen: 127.0.0.1:${port}
  admin: 127.0.0.1:0
${gatewayYaml}  routes:
    - name: bench
      match: { pathPrefix: /api }
      service: app
      stripPrefix: /api
services:
  app:
    endpoints: [http://127.0.0.1:${upstreamPort}]
`,
  );
  return { file, port };
}

/** `sekisho validate FILE`: undefined when valid, else the errors it printed. */
export function validateConfig(file: string): string | undefined {
  const result = spawnSync(process.execPath, [CLI, 'validate', file], { encoding: 'utf8' });
  return result.status === 0 ? undefined : `${result.stdout}${result.stderr}`.trim() || `exit ${result.status}`;
}

export function sekishoGateway(options: SekishoOptions): Target {
  return {
    name: options.name,
    kind: 'sekisho',
    unavailable: sekishoUnavailable,
    async start(upstreamPort, dir): Promise<StartedTarget> {
      const { file, port } = await writeGatewayConfig(dir, upstreamPort, options.gatewayYaml);
      const invalid = validateConfig(file);
      if (invalid) throw new Error(`the generated gateway config is refused by sekisho validate:\n${invalid}`);
      const proc = start({
        name: options.name,
        core: PROXY_CORE,
        command: process.execPath,
        args: [...(options.nodeArgs ?? []), CLI, 'gateway', '-c', file, '--no-watch'],
        env: { SEKISHO_LOG_LEVEL: options.logLevel },
        cwd: dir,
        logFile: join(dir, 'gateway.log'),
      });
      const url = `http://127.0.0.1:${port}${PROXIED_PATH}`;
      await waitForAnswer(proc, url, { status: 200, bodyBytes: BODY_BYTES, headers: options.requestHeaders });
      return { url, headers: options.requestHeaders, proc, stop: () => proc.stop() };
    },
  };
}
