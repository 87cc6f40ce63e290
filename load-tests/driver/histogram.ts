/**
 * A latency histogram with logarithmic buckets (2 % wide): constant memory for millions
 * of samples, and driver processes merge theirs by adding counts.
 */
const GROWTH = 1.02;
const SMALLEST_MS = 0.001;
const LOG_GROWTH = Math.log(GROWTH);

export type HistogramData = { counts: Record<number, number>; count: number; sum: number; min: number; max: number };

export class Histogram {
  private data: HistogramData = { counts: {}, count: 0, sum: 0, min: Infinity, max: -Infinity };

  add(ms: number): void {
    const v = Math.max(ms, SMALLEST_MS);
    const bucket = Math.ceil(Math.log(v / SMALLEST_MS) / LOG_GROWTH);
    const d = this.data;
    d.counts[bucket] = (d.counts[bucket] ?? 0) + 1;
    d.count++;
    d.sum += ms;
    d.min = Math.min(d.min, ms);
    d.max = Math.max(d.max, ms);
  }

  merge(other: HistogramData): void {
    const d = this.data;
    for (const [bucket, n] of Object.entries(other.counts)) d.counts[+bucket] = (d.counts[+bucket] ?? 0) + n;
    d.count += other.count;
    d.sum += other.sum;
    d.min = Math.min(d.min, other.min);
    d.max = Math.max(d.max, other.max);
  }

  get count(): number {
    return this.data.count;
  }

  /** The upper edge of the bucket holding the p-th percentile (p in 0..100), capped at the true max. */
  percentile(p: number): number {
    const d = this.data;
    if (d.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * d.count);
    let seen = 0;
    for (const bucket of Object.keys(d.counts)
      .map(Number)
      .sort((a, b) => a - b)) {
      seen += d.counts[bucket];
      if (seen >= rank) return Math.min(SMALLEST_MS * GROWTH ** bucket, d.max);
    }
    return d.max;
  }

  avg(): number {
    return this.data.count ? this.data.sum / this.data.count : NaN;
  }

  toJSON(): HistogramData {
    return this.data;
  }
}
