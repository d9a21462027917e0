// The shop's token service (no dependencies): POST /token {"user": "alice"} → an HS256 JWT the
// gateway accepts (issuer shop-auth, audience shop-api, one hour). A demo: it trusts any user name.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.JWT_SECRET ?? 'shop-demo-secret-change-me';
const base64url = (data) => Buffer.from(data).toString('base64url');

function sign(claims) {
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(claims));
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/token') return reply(res, 404, { error: 'POST /token' });
  let text = '';
  req.on('data', (chunk) => (text += chunk));
  req.on('end', () => {
    let user;
    try {
      user = JSON.parse(text || '{}').user;
    } catch {
      return reply(res, 400, { error: 'body must be JSON' });
    }
    if (typeof user !== 'string' || user === '') return reply(res, 400, { error: 'give {"user": "name"}' });
    const now = Math.floor(Date.now() / 1000);
    reply(res, 200, { token: sign({ iss: 'shop-auth', aud: 'shop-api', sub: user, iat: now, exp: now + 3600 }), expiresIn: 3600 });
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`auth listening on ${process.env.PORT}`));
