/**
 * The dashboard's series exist from the start at 0 (issue 15): a Grafana panel shows 0 late
 * events, not "No data", before the first one.
 */
import { describe, expect, it } from 'vitest';
import { requireBuilt, start, until } from './helpers.js';

requireBuilt();

describe('envtest server --metrics before any guest', () => {
  it('publishes the labelled envtest series at 0', async () => {
    const server = start(['server', '--listen', 'tcp://127.0.0.1:0', '--metrics', '127.0.0.1:0', '--rate', '0', '--quiet']);
    try {
      await until(() => /metrics at (http:\S+)/.test(server.stderr()), 15_000, 'the metrics URL');
      const url = /metrics at (http:\S+)/.exec(server.stderr())![1]!;
      const text = await (await fetch(url)).text();
      expect(text).toMatch(/^envtest_events_total\{source="host"\} 0$/m);
      expect(text).toMatch(/^envtest_late_events_total\{source="host"\} 0$/m);
      for (const where of ['console', 'export', 'timeline', 'overflow', 'future'])
        expect(text).toMatch(new RegExp(`^envtest_dropped_events_total\\{where="${where}"\\} 0$`, 'm'));
      expect(text).toMatch(/^envtest_merge_buffered 0$/m);
    } finally {
      server.child.kill('SIGINT');
      await server.done;
    }
  });
});
