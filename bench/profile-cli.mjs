// The Sekisho CLI under V8's CPU profiler, for profiling every Sekisho process a scenario starts
// (sidecars, control plane, gateway):
//   SEKISHO_CLI=bench/profile-cli.mjs npm run bench -- --only=s4 --runs=1
// Each process writes $SEKISHO_PROFILE_DIR (default /tmp/sekisho-profiles)/<pid>-<command>.cpuprofile
// when it exits (open it in Chrome DevTools, or summarize it with bench/lib/cpu-profile.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.SEKISHO_PROFILE_DIR ?? '/tmp/sekisho-profiles';
const cli = join(import.meta.dirname, '../dist/cli/main.js');
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
process.on('exit', () => {
  // The in-process inspector session answers synchronously, so this runs to the end before exit.
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}-${process.argv[2]}.cpuprofile`), JSON.stringify(result.profile));
  });
});
process.argv[1] = cli;
await import(cli);
