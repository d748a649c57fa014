/**
 * Peak memory growth of this process while `work` runs, sampled every few milliseconds. Peaks, not
 * end values: a buffered body is garbage again by the end, but it had to fit at its peak. Buffers
 * live outside the JS heap, so heap and array buffers are summed.
 */
const SAMPLE_EVERY_MS = 5;

export interface MemoryGrowth {
  /** Peak (heapUsed + arrayBuffers) minus the value before `work`. */
  heapAndBuffersMiB: number;
  /** Peak RSS minus the RSS before `work`. */
  rssMiB: number;
}

export async function peakMemoryGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: MemoryGrowth }> {
  const heapAndBuffers = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
  const before = process.memoryUsage();
  let peakHeap = heapAndBuffers(before);
  let peakRss = before.rss;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, heapAndBuffers(m));
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  try {
    const result = await work();
    sample();
    return { result, growth: { heapAndBuffersMiB: (peakHeap - heapAndBuffers(before)) / 2 ** 20, rssMiB: (peakRss - before.rss) / 2 ** 20 } };
  } finally {
    clearInterval(timer);
  }
}
