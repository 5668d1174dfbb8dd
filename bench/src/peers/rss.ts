// RSS sampling over a fixed window, for the memory workloads.

export interface RssSampler {
  /** [seconds since start, RSS in MiB] */
  stop(): Array<[number, number]>;
}

export function sampleRss(intervalMs: number): RssSampler {
  const t0 = performance.now();
  const points: Array<[number, number]> = [];
  const take = (): void => {
    points.push([(performance.now() - t0) / 1000, process.memoryUsage.rss() / (1024 * 1024)]);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return points;
    },
  };
}
