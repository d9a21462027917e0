// A tiny example service for the demo: answers JSON naming itself and echoing what it got.
import { createServer } from 'node:http';

const name = process.env.SERVICE ?? 'app';
const port = Number(process.env.PORT ?? 0);

createServer((req, res) => {
  const body = JSON.stringify({ service: name, method: req.method, path: req.url, requestId: req.headers['x-request-id'] }) + '\n';
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
