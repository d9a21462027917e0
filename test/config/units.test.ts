import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  parseBackoff,
  parseCidr,
  parseDuration,
  parseEndpointUrl,
  parseListen,
  parsePercent,
  parseRate,
  parseSize,
} from '../../src/config/units.js';

describe('parseDuration', () => {
  test('reads ms, s, m and h, with fractions', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('3s'), 3_000);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('0s'), 0);
  });

  test('rejects other notations with the expected form in the message', () => {
    for (const bad of ['3', '3 s', '3sec', '-1s', '1d', '.5s', '3S', '']) {
      assert.throws(() => parseDuration(bad), /invalid duration ".*": use a number with ms, s, m or h/, bad);
    }
  });
});

describe('parseSize', () => {
  test('is 1024-based and ignores case', () => {
    assert.equal(parseSize('10b'), 10);
    assert.equal(parseSize('64kb'), 65_536);
    assert.equal(parseSize('1mb'), 1_048_576);
    assert.equal(parseSize('1MB'), 1_048_576);
    assert.equal(parseSize('2gb'), 2 * 1024 ** 3);
    assert.equal(parseSize('1.5kb'), 1_536);
  });

  test('rejects unknown units', () => {
    for (const bad of ['1', '1 mb', '1tb', '1m', 'mb']) assert.throws(() => parseSize(bad), /invalid size/, bad);
  });
});

describe('parseRate', () => {
  test('reads a count per period in any of its spellings', () => {
    assert.deepEqual(parseRate('10/s'), { count: 10, periodMs: 1_000 });
    assert.deepEqual(parseRate('5/second'), { count: 5, periodMs: 1_000 });
    assert.deepEqual(parseRate('600/min'), { count: 600, periodMs: 60_000 });
    assert.deepEqual(parseRate('1000/hour'), { count: 1000, periodMs: 3_600_000 });
  });

  test('rejects a zero count and unknown periods', () => {
    for (const bad of ['0/s', '10/day', '10 per second', '1.5/s', '/s']) {
      assert.throws(() => parseRate(bad), /invalid rate/, bad);
    }
  });
});

describe('parseListen', () => {
  test('reads host:port, [ipv6]:port, :port and a bare port', () => {
    assert.deepEqual(parseListen('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(parseListen(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen('8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen(8080), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  });

  test('rejects bad ports and malformed hosts', () => {
    for (const bad of ['0.0.0.0:70000', '[::g]:80', '::1:80', 'host:', 'host:port', '-1', 80.5]) {
      assert.throws(() => parseListen(bad), /invalid listen address/, String(bad));
    }
  });
});

describe('parseBackoff', () => {
  test('reads base..max, or one duration for a constant backoff', () => {
    assert.deepEqual(parseBackoff('25ms..250ms'), { baseMs: 25, maxMs: 250 });
    assert.deepEqual(parseBackoff('1s..1m'), { baseMs: 1_000, maxMs: 60_000 });
    assert.deepEqual(parseBackoff('100ms'), { baseMs: 100, maxMs: 100 });
  });

  test('rejects a base above the maximum and malformed ranges', () => {
    assert.throws(() => parseBackoff('250ms..25ms'), /the base is larger than the maximum/);
    for (const bad of ['25ms..', '..25ms', '25ms...250ms', '25ms..250ms..1s', '25..250']) {
      assert.throws(() => parseBackoff(bad), /invalid backoff/, bad);
    }
  });
});

describe('parsePercent', () => {
  test('turns a percentage into a share', () => {
    assert.equal(parsePercent('20%'), 0.2);
    assert.equal(parsePercent('0%'), 0);
    assert.equal(parsePercent('100%'), 1);
    assert.equal(parsePercent('12.5%'), 0.125);
  });

  test('rejects values above 100% and missing signs', () => {
    for (const bad of ['101%', '20', '-5%', '0.2']) assert.throws(() => parsePercent(bad), /invalid percentage/, bad);
  });
});

describe('parseCidr', () => {
  test('reads v4 and v6 blocks and single addresses', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 4 });
    assert.deepEqual(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 6 });
    assert.deepEqual(parseCidr('192.168.1.10'), { address: '192.168.1.10', prefix: 32, family: 4 });
    assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 6 });
  });

  test('rejects bad prefixes and non-addresses', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/8', 'localhost', '10.0.0/8']) {
      assert.throws(() => parseCidr(bad), /invalid CIDR/, bad);
    }
  });
});

describe('parseEndpointUrl', () => {
  test('reads an origin, spelling the default port out', () => {
    assert.deepEqual(parseEndpointUrl('http://127.0.0.1:9000'), {
      url: 'http://127.0.0.1:9000',
      host: '127.0.0.1',
      port: 9000,
      protocol: 'http:',
    });
    assert.equal(parseEndpointUrl('https://billing.internal').url, 'https://billing.internal:443');
    assert.equal(parseEndpointUrl('http://127.0.0.1:9000/').url, 'http://127.0.0.1:9000');
  });

  test('takes a version from the fragment and IPv6 hosts without brackets', () => {
    assert.deepEqual(parseEndpointUrl('http://[::1]:9001#v2'), {
      url: 'http://[::1]:9001',
      host: '::1',
      port: 9001,
      protocol: 'http:',
      version: 'v2',
    });
  });

  test('says what is wrong with a URL it refuses', () => {
    assert.throws(() => parseEndpointUrl('ftp://host:21'), /scheme "ftp" is not http or https/);
    assert.throws(() => parseEndpointUrl('http://host:80/api'), /a path or query is not allowed/);
    assert.throws(() => parseEndpointUrl('http://host:80?x=1'), /a path or query is not allowed/);
    assert.throws(() => parseEndpointUrl('http://user:pw@host:80'), /credentials are not allowed/);
    assert.throws(() => parseEndpointUrl('http://host:80#v 2'), /is not a version like #v2/);
    assert.throws(() => parseEndpointUrl('127.0.0.1:9000'), /invalid endpoint "127.0.0.1:9000"/);
  });
});

// The schema repeats the grammars as patterns for editors; both must accept the same strings.
describe('schema patterns agree with the parsers', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/sekisho.schema.json', import.meta.url), 'utf8')) as {
    definitions: Record<string, { pattern: string }>;
  };
  const cases: [string, (text: string) => unknown, string[]][] = [
    ['duration', parseDuration, ['250ms', '1.5s', '10m', '24h', '3', '3S', '1d', '1.s']],
    ['size', parseSize, ['10b', '64kb', '1MB', '1.5Gb', '1tb', '1 mb', '1m']],
    ['rate', parseRate, ['10/s', '600/min', '1/hour', '0/s', '10/day', '01/s']],
  ];
  for (const [name, parse, samples] of cases) {
    test(name, () => {
      const pattern = new RegExp(schema.definitions[name]!.pattern);
      for (const sample of samples) assert.equal(pattern.test(sample), accepts(parse, sample), sample);
    });
  }
});

function accepts(parse: (text: string) => unknown, text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}
