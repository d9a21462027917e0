import { Redis } from 'ioredis';
import type { RateDecision, RatePolicy } from '../gcra.js';
import type { RateLimitStore } from './store.js';
import { SILENT_LOG, type EventLog } from '../../event-log.js';

/**
 * The GCRA step of `gcra.ts`, run atomically inside Redis so several gateway processes share one
 * bucket per client. The clock is Redis's own (`TIME`), so gateways on machines with skewed
 * clocks still agree. The key expires when the bucket would be full again.
 * Returns {allowed, remaining, resetMs, retryAfterMs}, as integers (Redis truncates numbers).
 */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local capacity = burst * interval
local debt = tat + interval - now
if debt > capacity + 0.001 then
  return {0, 0, math.ceil(tat - now), math.ceil(debt - capacity)}
end
redis.call('SET', KEYS[1], string.format('%.3f', tat + interval), 'PX', math.ceil(debt))
return {1, math.floor((capacity - debt) / interval + 0.001), math.ceil(debt), 0}
`;

/** How long a rate-limit decision may wait for Redis before the request goes on without it. */
const COMMAND_TIMEOUT_MS = 250;
const KEY_PREFIX = 'sekisho:rl:';

type GcraReply = [number, number, number, number];
type GcraClient = Redis & { sekishoGcra(key: string, intervalMs: number, burst: number): Promise<GcraReply> };

/**
 * Buckets in Redis. The client never queues commands while disconnected and times each out
 * quickly: a Redis outage turns into prompt rejections (and `failOpen` decides), never into
 * requests hanging on the gateway. It reconnects in the background, backing off to 2 s.
 */
export class RedisStore implements RateLimitStore {
  private readonly client: GcraClient;

  constructor(
    readonly url: string,
    log: EventLog = SILENT_LOG,
  ) {
    const client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    });
    // Errors surface as rejected commands; the client emits them too and would crash the
    // process if nobody listened.
    client.on('error', ignore);
    reportOutages(client, url, log);
    client.defineCommand('sekishoGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
    this.client = client as GcraClient;
  }

  /** Whether commands can be sent right now. */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async take(key: string, policy: RatePolicy): Promise<RateDecision> {
    const [allowed, remaining, resetMs, retryAfterMs] = await this.client.sekishoGcra(KEY_PREFIX + key, policy.intervalMs, policy.burst);
    return { allowed: allowed === 1, remaining, resetMs, retryAfterMs };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function ignore(): void {}

/** One warning when the store becomes unreachable, one note when it is back. */
function reportOutages(client: Redis, url: string, log: EventLog): void {
  let down = false;
  const store = redactPassword(url);
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ store, error: error.message }, 'rate-limit store unreachable; failOpen decides meanwhile');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ store }, 'rate-limit store reachable again');
  });
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//<redacted>@');
}
