import { MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metric families of SPEC §7, shared by every role. One instance lives as long as the
 * process (counters survive config reloads); runtimes take label children from it.
 */
export class ProxyMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly retries: Counter;
  readonly retryBudgetExhausted: Counter;
  readonly mirrored: Counter;
  readonly faults: Counter;
  readonly rateLimitRejected: Counter;
  readonly authRejected: Counter;
  readonly circuitOpen: Gauge;
  readonly outlierEjected: Gauge;
  readonly endpointHealthy: Gauge;
  readonly certExpiry: Gauge;
  readonly configVersion: Gauge;

  constructor(readonly role: string) {
    const r = this.registry;
    this.requests = r.counter('sekisho_requests_total', 'Requests answered, by route, service, version and status code.',
      ['role', 'route', 'service', 'version', 'code']);
    this.duration = r.histogram('sekisho_request_duration_seconds', 'Time from request head to response end.',
      ['role', 'route', 'service'], LATENCY_BUCKETS);
    this.retries = r.counter('sekisho_upstream_retries_total', 'Upstream attempts beyond the first.', ['role', 'service']);
    this.retryBudgetExhausted = r.counter('sekisho_retry_budget_exhausted_total', 'Retries not made because the retry budget was spent.', ['role', 'service']);
    this.mirrored = r.counter('sekisho_mirror_requests_total', 'Mirrored copies sent, or skipped (no endpoint, too many in flight).', ['role', 'service', 'version', 'outcome']);
    this.faults = r.counter('sekisho_faults_injected_total', 'Requests delayed or aborted by fault injection.', ['role', 'service', 'kind']);
    this.rateLimitRejected = r.counter('sekisho_ratelimit_rejected_total', 'Requests refused with 429.', ['role', 'route']);
    this.authRejected = r.counter('sekisho_auth_rejected_total', 'Requests refused by authentication.', ['role', 'reason']);
    this.circuitOpen = r.gauge('sekisho_circuit_open', '1 while a service\'s circuit breaker is refusing requests.', ['role', 'service']);
    this.outlierEjected = r.gauge('sekisho_outlier_ejected', '1 while an endpoint is ejected by outlier detection.', ['role', 'service', 'endpoint']);
    this.endpointHealthy = r.gauge('sekisho_endpoint_healthy', '1 while an endpoint passes its active health checks.', ['role', 'service', 'endpoint']);
    this.certExpiry = r.gauge('sekisho_cert_expiry_seconds', 'Seconds until the proxy\'s certificate expires.', ['role']);
    this.configVersion = r.gauge('sekisho_config_version', 'Version of the config in force.', ['role']);
  }
}
