import { describe, expect, it } from 'vitest';
import { isFlat, isPaused, renderSummary, replaceBetweenMarkers, README_END, README_START, type FactRow, type Facts } from '../src/report/headline.js';
import type { Placement } from '../src/workload-contract.js';

const row = (variant: string, median: number | null, extra: Record<string, number> = {}, placement: Placement = 'unpinned'): FactRow => ({
  variant,
  placement,
  median,
  extra,
});

const meta = { command: 'node bench/dist/run.js', date: '2026-01-02T03:04:05Z', machine: '2 × CPU, node v20', loadStart: 0.5, loadEnd: 0.7, quick: false };

function fullFacts(): Map<string, { skipped?: string; rows: FactRow[] }> {
  return new Map([
    ['events', { rows: [row('raw socket', 6e6, { 'MB/s': 400 }), row('naive pipeline', 4e5), row('grpc-js', 2e4), row('vsock-rpc', 6e5, { 'MB/s': 30 })] }],
    ['bandwidth-64k', { rows: [row('raw socket', 1000), row('vsock-rpc', 500)] }],
    ['bandwidth-1m', { rows: [row('raw socket', 1000), row('vsock-rpc', 990)] }],
    ['stream-64k', { rows: [row('raw socket', 1000), row('vsock-rpc', 500), row('vsock-rpc stream', 400)] }],
    ['stream-1m', { rows: [row('raw socket', 1000), row('vsock-rpc', 800), row('vsock-rpc stream', 980)] }],
    ['server-stream-64k', { rows: [row('raw socket', 1000), row('grpc-js', 100), row('vsock-rpc server stream', 300)] }],
    [
      'stream-memory',
      {
        rows: [
          row('vsock-rpc stream', 60, {
            'RSS growth 2nd half MiB': 0.4,
            'offered /s': 1600,
            'written /s': 161,
            'consumed /s': 160,
            'producer paused %': 99.6,
          }),
        ],
      },
    ],
    [
      'latency',
      {
        rows: [
          row('raw socket', 20, {}, 'same-cpu'),
          row('grpc-js', 200, {}, 'same-cpu'),
          row('vsock-rpc', 40, {}, 'same-cpu'),
          row('raw socket', 50, {}, 'across-cpus'),
          row('grpc-js', 300, {}, 'across-cpus'),
          row('vsock-rpc', 75, {}, 'across-cpus'),
        ],
      },
    ],
    ['concurrent', { rows: [row('raw socket', 80000), row('grpc-js', 2000), row('vsock-rpc', 20000)] }],
    [
      'memory',
      {
        rows: [
          row('raw socket, unbounded', 180, { 'RSS growth 2nd half MiB': 38 }),
          row('vsock-rpc, bounded', 96, { 'RSS growth 2nd half MiB': 0.6, dropped: 490000, 'events sent': 1e6 }),
        ],
      },
    ],
    [
      'clock',
      {
        rows: [
          row('vsock-rpc ClockSync', 9, { 'idle p99 µs': 5, 'load events/s': 99000 }),
          row('vsock-rpc syncClock, burst of 8', 11, { 'idle p99 µs': 6 }),
          row('single exchange', 120, { 'idle p99 µs': 50 }),
        ],
      },
    ],
    ['codec', { rows: [row('vsock-rpc wire', 6e5), row('msgpackr alone', 8e5)] }],
    ['vsock', { rows: [row('Node, default buffers', 40), row('C, default buffers', 80), row('Node, 1 MiB buffers', 90), row('C, 1 MiB buffers', 100)] }],
  ]);
}

describe('renderSummary', () => {
  it('states every headline ratio', () => {
    const text = renderSummary(fullFacts() as Facts, meta);
    expect(text).toContain('load average 0.50 → 0.70');
    expect(text).toContain('600,000 events/s (30 MB/s) = 1.50× the naive msgpackr pipeline, 0.10× the raw-socket ceiling, 30.0× grpc-js client streaming');
    expect(text).toContain("same CPU 40 µs = 2.00× raw ping-pong's, 0.20× grpc-js's");
    expect(text).toContain("across CPUs 75 µs = 1.50× raw ping-pong's, 0.25× grpc-js's");
    expect(text).toContain('20,000 calls/s = 10.0× grpc-js (0.25× raw pipelined echo)');
    expect(text).toContain('64 KiB messages 500 MB/s = 0.50× the raw socket; 1 MiB messages 990 MB/s = 0.99× the raw socket');
    expect(text).toContain('idle 5 µs (single exchange 50 µs, 10.0× smaller)');
    expect(text).toContain('9 µs (single exchange 120 µs, 13.3× smaller)');
    expect(text).toContain('server RSS flat: **yes**');
    expect(text).toContain(
      '**Streams** (one client stream, credit-based flow control): 64 KiB chunks 400 MB/s = 0.40× the raw socket, 0.80× the same chunks as events; 1 MiB chunks 980 MB/s = 0.98× the raw socket, 1.23× the same chunks as events.',
    );
    expect(text).toContain('**Server streaming, 64 KiB chunks**: 300 MB/s = 3.00× grpc-js server streaming (0.30× the raw socket).');
    expect(text).toContain(
      'consumer RSS flat: **yes** (peak 60 MiB, growth over the second half +0.4 MiB); producer paused: **yes** (wrote 161 chunks/s of the 1,600 it offered, the consumer took 160; 100% of the time waiting in write() for credit)',
    );
    expect(text).toContain("490,000 events dropped by the client's drop-oldest queue and counted (49% of 1,000,000 sent)");
    expect(text).toContain('default buffers: Node 40 MB/s vs C 80 MB/s = 0.50×; 1 MiB buffers: Node 90 MB/s vs C 100 MB/s = 0.90×');
  });

  it('lists where vsock-rpc is slower, with a reason, and only those', () => {
    const text = renderSummary(fullFacts() as Facts, meta);
    const slower = text.slice(text.indexOf('Where vsock-rpc is slower'));
    expect(slower).toContain('events vs the raw socket (0.10×): the raw baseline writes pre-encoded frames');
    expect(slower).not.toContain('events vs the naive pipeline');
    expect(slower).toContain('call latency vs raw ping-pong, same CPU (2.00× its p50)');
    expect(slower).not.toContain('vs grpc-js');
    expect(slower).toContain('bandwidth with 64 KiB messages vs the raw socket (0.50×)');
    // within 5% of the raw socket is not called slower
    expect(slower).not.toContain('1 MiB messages vs the raw socket');
    expect(slower).toContain('codec vs msgpackr alone (0.75×)');
    expect(slower).toContain('vsock echo, Node vs C with default buffers (0.50×)');
    expect(slower).not.toContain('memory:');
    expect(slower).toContain('a stream of 64 KiB chunks vs the raw socket (0.40×)');
    expect(slower).toContain('a stream of 64 KiB chunks vs the same chunks as events (0.80×)');
    expect(slower).not.toContain('a stream of 1 MiB chunks');
    expect(slower).toContain('server streaming vs the raw socket (0.30×)');
    expect(slower).not.toContain('server streaming vs grpc-js');
    expect(slower).not.toContain('slow-consumer stream');
  });

  it('says why a workload has no figure, and when memory is not flat', () => {
    const facts = fullFacts();
    facts.set('vsock', { skipped: 'qemu-system-x86_64 is not on PATH', rows: [] });
    facts.delete('events');
    facts.set('concurrent', { rows: [row('raw socket', 80000), row('grpc-js', 2000), row('vsock-rpc', null)] });
    facts.set('memory', { rows: [row('vsock-rpc, bounded', 150, { 'RSS growth 2nd half MiB': 30, dropped: 0 })] });
    facts.delete('stream-1m');
    facts.set('server-stream-64k', { rows: [row('raw socket', 1000), row('grpc-js', 100), row('vsock-rpc server stream', null)] });
    facts.set('stream-memory', {
      rows: [
        row('vsock-rpc stream', 400, { 'RSS growth 2nd half MiB': 300, 'offered /s': 1600, 'written /s': 1590, 'consumed /s': 160, 'producer paused %': 1 }),
      ],
    });
    const text = renderSummary(facts as Facts, { ...meta, loadStart: 3.2, quick: true });
    expect(renderSummary(facts as Facts, { ...meta, loadStart: 3.2 })).toContain("memory: the bounded server's RSS grew by +30 MiB");
    expect(text).toContain('**vsock (QEMU guest)**: skipped: qemu-system-x86_64 is not on PATH.');
    expect(text).toContain('**Events**: not run (excluded by --only).');
    expect(text).toContain('**64 calls in flight**: no vsock-rpc figure');
    expect(text).toContain('**Server streaming**: no vsock-rpc server stream figure');
    expect(text).toContain('consumer RSS flat: **no**');
    expect(text).toContain('producer paused: **no** (wrote 1,590 chunks/s of the 1,600 it offered');
    const full = renderSummary(facts as Facts, { ...meta, loadStart: 3.2 });
    expect(full).toContain("slow-consumer stream: the consumer's RSS grew by +300 MiB");
    expect(full).toContain("slow-consumer stream: the producer was not held to the consumer's rate (wrote 1,590/s, consumed 160/s)");
    expect(text).toContain('server RSS flat: **no**');
    expect(text).toContain('a quick run is too short');
    expect(text).toContain('a busy shared machine');
    expect(text).toContain('**Quick run**');
  });

  it('isPaused', () => {
    expect(isPaused(161, 160, 1600)).toBe(true);
    expect(isPaused(200, 160, 1600)).toBe(false);
    expect(isPaused(1590, 1500, 1600)).toBe(false);
    expect(isPaused(undefined, 160, 1600)).toBe(false);
    expect(isPaused(0, 0, 1600)).toBe(false);
  });

  it('isFlat', () => {
    expect(isFlat(0.6)).toBe(true);
    expect(isFlat(-3)).toBe(true);
    expect(isFlat(12)).toBe(false);
    expect(isFlat(undefined)).toBe(false);
    expect(isFlat(Number.NaN)).toBe(false);
  });
});

describe('replaceBetweenMarkers', () => {
  const doc = `# Title\n\nintro\n\n${README_START}\nold text\nmore old\n${README_END}\n\n## After\n`;

  it('rewrites only the text between the markers, keeping them', () => {
    const out = replaceBetweenMarkers(doc, '\nnew block\n\n');
    expect(out).toBe(`# Title\n\nintro\n\n${README_START}\nnew block\n${README_END}\n\n## After\n`);
    // idempotent
    expect(replaceBetweenMarkers(out, 'new block')).toBe(out);
  });

  it('refuses missing, reversed or repeated markers', () => {
    expect(() => replaceBetweenMarkers('no markers', 'x')).toThrow(/not found/);
    expect(() => replaceBetweenMarkers(`${README_END}\n${README_START}`, 'x')).toThrow(/comes before/);
    expect(() => replaceBetweenMarkers(`${doc}${README_START}`, 'x')).toThrow(/more than once/);
  });
});
