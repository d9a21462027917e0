import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/core/metrics.js';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and cumulative histograms in Prometheus text', () => {
    const r = new MetricsRegistry();
    const c = r.counter('t_requests_total', 'Requests.', ['route', 'code']);
    c.labels('a', '200').inc();
    c.labels('a', '200').inc(2);
    c.labels('b"\\\n', '500').inc();
    r.gauge('t_up', 'Up.').labels().set(1);
    const h = r.histogram('t_seconds', 'Time.', ['route'], [0.1, 1]);
    h.labels('a').observe(0.05);
    h.labels('a').observe(0.5);
    h.labels('a').observe(5);
    assert.equal(r.render(), [
      '# HELP t_requests_total Requests.',
      '# TYPE t_requests_total counter',
      't_requests_total{route="a",code="200"} 3',
      't_requests_total{route="b\\"\\\\\\n",code="500"} 1',
      '# HELP t_up Up.',
      '# TYPE t_up gauge',
      't_up 1',
      '# HELP t_seconds Time.',
      '# TYPE t_seconds histogram',
      't_seconds_bucket{route="a",le="0.1"} 1',
      't_seconds_bucket{route="a",le="1"} 2',
      't_seconds_bucket{route="a",le="+Inf"} 3',
      't_seconds_sum{route="a"} 5.55',
      't_seconds_count{route="a"} 3',
      '',
    ].join('\n'));
  });

  it('drops removed children', () => {
    const r = new MetricsRegistry();
    const g = r.gauge('t_g', 'G.', ['e']);
    g.labels('x').set(1);
    g.remove('x');
    assert.doesNotMatch(r.render(), /t_g\{/);
  });
});
