// `npm start`: two example services and a standalone gateway in front of them, until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const children = [];

function run(label, args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const line of lines) out.write(`${label.padEnd(8)}| ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${label} exited (${code}); stopping the demo`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());

run('billing', [here('./app.mjs')], { SERVICE: 'billing', PORT: '9101' });
run('upload', [here('./app.mjs')], { SERVICE: 'upload', PORT: '9102' });
const gateway = run('gateway', [here('../../dist/cli/main.js'), 'gateway', '-c', here('./sekisho.yaml')]);
gateway.stdout.on('data', (d) => {
  if (String(d).includes('gateway ready')) {
    console.log(`
Sekisho demo is up. Try:
  curl -i http://127.0.0.1:8080/api/billing/charge
  curl -i -X POST http://127.0.0.1:8080/api/upload/file -d hello
  curl -i http://127.0.0.1:8080/nowhere            # 404 problem+json
  curl http://127.0.0.1:15090/clusters             # admin: endpoints and health
  curl http://127.0.0.1:15090/metrics              # Prometheus metrics
Edit examples/demo/sekisho.yaml and the gateway reloads it. Ctrl-C stops everything.
`);
  }
});
