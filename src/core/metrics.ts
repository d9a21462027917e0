/**
 * A small Prometheus text-format registry. Label lookups happen once, when a caller takes a
 * child for a fixed set of label values and keeps it; the hot path then only adds numbers.
 */

type LabelValues = readonly string[];

function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

function labelText(names: readonly string[], values: LabelValues, extra = ''): string {
  if (names.length === 0 && extra === '') return '';
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== '') parts.push(extra);
  return `{${parts.join(',')}}`;
}

abstract class Metric<Child> {
  protected readonly children = new Map<string, { values: LabelValues; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract readonly type: string;
  protected abstract create(): Child;
  protected abstract renderChild(out: string[], values: LabelValues, child: Child): void;

  /** The child for these label values (created on first use). Keep it; do not call per request. */
  labels(...values: string[]): Child {
    const key = values.join('\u0001');
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { values, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  /** Drops a child (an endpoint that left, say) so it stops being exported. */
  remove(...values: string[]): void {
    this.children.delete(values.join('\u0001'));
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const { values, child } of this.children.values()) this.renderChild(out, values, child);
  }
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class Counter extends Metric<CounterChild> {
  protected readonly type = 'counter';
  protected create(): CounterChild {
    return new CounterChild();
  }
  protected renderChild(out: string[], values: LabelValues, child: CounterChild): void {
    out.push(`${this.name}${labelText(this.labelNames, values)} ${child.value}`);
  }
}

export class GaugeChild {
  value = 0;
  set(value: number): void {
    this.value = value;
  }
}

export class Gauge extends Metric<GaugeChild> {
  protected readonly type = 'gauge';
  protected create(): GaugeChild {
    return new GaugeChild();
  }
  protected renderChild(out: string[], values: LabelValues, child: GaugeChild): void {
    out.push(`${this.name}${labelText(this.labelNames, values)} ${child.value}`);
  }
}

export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export class Histogram extends Metric<HistogramChild> {
  protected readonly type = 'histogram';
  constructor(name: string, help: string, labelNames: readonly string[], readonly bounds: readonly number[]) {
    super(name, help, labelNames);
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  protected renderChild(out: string[], values: LabelValues, child: HistogramChild): void {
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += child.counts[i]!;
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${this.bounds[i]}"`)} ${cumulative}`);
    }
    out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${child.count}`);
    out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${child.sum}`);
    out.push(`${this.name}_count${labelText(this.labelNames, values)} ${child.count}`);
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric<unknown>[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, bounds));
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(): string {
    const out: string[] = [];
    for (const metric of this.metrics) metric.render(out);
    return out.join('\n') + '\n';
  }

  private add<M extends Metric<unknown>>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
