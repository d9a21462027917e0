// @fastify/http-proxy as its README shows it: every request under /api goes to the upstream with
// the prefix removed (undici pool underneath). PORT and UPSTREAM (http://host:port) from env.
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const app = Fastify({ logger: false });
await app.register(proxy, { upstream: process.env.UPSTREAM, prefix: '/api', undici: { connections: 128, keepAliveTimeout: 60_000 } });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write(`listening ${process.env.PORT}\n`);
