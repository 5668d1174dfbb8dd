import { describe, expect, it } from 'vitest';
import { median, medianIndex, ratio, rotate, spread } from '../src/stats.js';

describe('stats', () => {
  it('median of odd and even counts, unsorted input untouched', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('spread gives median, min, max and n', () => {
    expect(spread([10, 30, 20, 50, 40])).toEqual({ median: 30, min: 10, max: 50, n: 5 });
  });

  it('ratio is value ÷ baseline, null when meaningless', () => {
    expect(ratio(50, 100)).toBe(0.5);
    expect(ratio(300, 100)).toBe(3);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
  });

  it('medianIndex picks the repetition closest to the median', () => {
    expect(medianIndex([9, 1, 5, 7, 3])).toBe(2);
  });

  it('rotate starts each repetition with a different item', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 2)).toEqual([]);
  });
});

describe('series statistics', () => {
  it('nearestRank returns an observation', async () => {
    const { nearestRank } = await import('../src/stats.js');
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(nearestRank(xs, 0.5)).toBe(5);
    expect(nearestRank(xs, 0.99)).toBe(10);
    expect(nearestRank(xs, 0)).toBe(1);
    expect(nearestRank([], 0.5)).toBeNaN();
  });

  it('rssGrowth: about 0 when flat, half the growth when linear', async () => {
    const { rssGrowth } = await import('../src/stats.js');
    const flat = Array.from({ length: 41 }, (_, i) => [i / 4, 95 + (i % 3) * 0.5] as const);
    expect(Math.abs(rssGrowth(flat))).toBeLessThanOrEqual(0.5);
    const linear = Array.from({ length: 41 }, (_, i) => [i / 4, 60 + 10 * (i / 4)] as const);
    expect(rssGrowth(linear)).toBeCloseTo(50, 0);
    expect(rssGrowth([[0, 1]])).toBeNaN();
  });
});
