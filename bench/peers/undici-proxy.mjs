// The proxy a Node.js user writes in twenty lines: node:http in front of an undici keep-alive Pool,
// streaming both ways. Strips `/api` like the other peers. PORT and UPSTREAM (http://host:port) from env.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.env.UPSTREAM, { connections: 128, keepAliveTimeout: 60_000 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function withoutHopByHop(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

function writeHead({ statusCode, headers, opaque: res }) {
  res.writeHead(statusCode, withoutHopByHop(headers));
  return res;
}

createServer((req, res) => {
  const path = req.url.startsWith('/api/') ? req.url.slice(4) : req.url;
  const body = req.method === 'GET' || req.method === 'HEAD' ? null : req;
  pool.stream({ path, method: req.method, headers: withoutHopByHop(req.headers), body, opaque: res }, writeHead, (error) => {
    if (error && !res.headersSent) {
      res.writeHead(502).end();
    } else if (error) {
      res.destroy(error);
    }
  });
})
  .listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write(`listening ${process.env.PORT}\n`));
