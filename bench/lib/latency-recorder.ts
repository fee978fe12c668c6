/**
 * Latencies in milliseconds at full timer resolution, and their percentiles. A percentile is reported
 * only when there are enough samples to mean something (100 for p99, 1,000 for p99.9).
 */
export class LatencyRecorder {
  private values = new Float64Array(4096);
  private length = 0;

  get count(): number {
    return this.length;
  }

  record(milliseconds: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = milliseconds;
    this.length += 1;
  }

  percentiles(): { p50?: number; p99?: number; p99_9?: number } {
    if (this.length === 0) return {};
    const sorted = this.values.slice(0, this.length).sort();
    const at = (fraction: number) => sorted[Math.min(this.length - 1, Math.ceil(fraction * this.length) - 1)];
    return {
      p50: at(0.5),
      p99: this.length >= 100 ? at(0.99) : undefined,
      p99_9: this.length >= 1000 ? at(0.999) : undefined,
    };
  }
}
