// The shop's orders service (Node.js, no dependencies). POST /orders {"item", "amount"} charges
// the caller through billing and records the order; GET /orders lists them.
//
// It calls billing as plain `http://billing/billing/charge` through its sidecar (SEKISHO_PROXY,
// set by `sekisho up`): no TLS, no retry loop, no service discovery in the app.
import { createServer, request } from 'node:http';

const proxy = new URL(process.env.SEKISHO_PROXY ?? 'http://127.0.0.1:15001');
const orders = [];

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** POST http://billing/billing/charge, sent to the sidecar in HTTP proxy form. */
function charge(order, requestId) {
  const body = JSON.stringify({ order: order.id, user: order.user, amount: order.amount });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: proxy.hostname,
        port: proxy.port,
        method: 'POST',
        path: 'http://billing/billing/charge',
        headers: { host: 'billing', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId, 'idempotency-key': order.id },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

createServer((req, res) => {
  if (req.url === '/orders' && req.method === 'GET') return reply(res, 200, { orders });
  if (req.url !== '/orders' || req.method !== 'POST') return reply(res, 404, { error: 'GET or POST /orders' });
  let text = '';
  req.on('data', (chunk) => (text += chunk));
  req.on('end', async () => {
    let input;
    try {
      input = JSON.parse(text || '{}');
    } catch {
      return reply(res, 400, { error: 'body must be JSON' });
    }
    const amount = Number(input.amount);
    if (typeof input.item !== 'string' || !(amount > 0)) return reply(res, 400, { error: 'give {"item": "…", "amount": 12.5}' });
    const order = { id: `o-${orders.length + 1}`, item: input.item, amount, user: req.headers['x-user-id'] ?? 'anonymous' };
    try {
      const billing = await charge(order, req.headers['x-request-id'] ?? '');
      if (billing.status !== 200) return reply(res, 502, { error: 'billing refused the charge', billing: billing.body });
      orders.push({ ...order, charge: billing.body });
      reply(res, 201, { order, charge: billing.body, calledBy: req.headers['x-sekisho-peer'] });
    } catch (error) {
      reply(res, 502, { error: `billing unreachable: ${error.message}` });
    }
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`orders listening on ${process.env.PORT}`));
