/**
 * Series a dashboard queries exist from the start at 0 (issue 15): a Grafana panel on
 * rate(vsockrpc_errors_total[1m]) shows 0, not "No data", before the first error.
 */
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { Registry as PromRegistry } from 'prom-client';
import { defineRegistry } from '@vsock-rpc/wire';
import { EngineMetrics } from '../src/metrics.js';
import { testRegistry } from './helpers.js';

describe('engine metrics before anything happened', () => {
  it('publishes errors, drops, evictions, frames and bytes of every known type at 0', async () => {
    const prom = new PromRegistry();
    const m = new EngineMetrics(testRegistry, { promRegistry: prom, labels: { role: 'server' } });
    m.sources = { queueDepth: () => 0, dropped: () => ({}), connections: () => 0, evicted: () => ({ handshake: 0, idle: 0 }) };
    const text = await prom.metrics();
    for (const code of ['PROTOCOL_ERROR', 'HELLO_MISMATCH', 'FRAME_TOO_LARGE', 'SCHEMA_VIOLATION']) {
      expect(text).toContain(`vsockrpc_errors_total{role="server",code="${code}"} 0`);
    }
    expect(text).toContain('vsockrpc_dropped_events_total{role="server",reason="oldest"} 0');
    expect(text).toContain('vsockrpc_connections_evicted_total{role="server",reason="idle"} 0');
    const message = testRegistry.summary.find((s) => s.kind === 'message')!.name;
    const method = testRegistry.summary.find((s) => s.kind === 'method')!.name;
    expect(text).toContain(`vsockrpc_frames_total{role="server",direction="in",kind="event",type="${message}"} 0`);
    expect(text).toContain(`vsockrpc_frames_total{role="server",direction="out",kind="request",type="${method}"} 0`);
    expect(text).toContain(`vsockrpc_bytes_total{role="server",direction="in",type="${message}"} 0`);
    // Still bounded: nothing for types outside the registry until they happen.
    expect(text).not.toContain('type="unknown"');
    // Counting still works on top of the zeros.
    m.error('PROTOCOL_ERROR');
    expect(await prom.metrics()).toContain('vsockrpc_errors_total{role="server",code="PROTOCOL_ERROR"} 1');
  });

  it('publishes a stream method under each stream kind at 0, and the stream error codes', async () => {
    const registry = defineRegistry({
      streams: { lines: { id: 200, mode: 'server', request: Type.Object({ n: Type.Integer() }), response: Type.Object({ text: Type.String() }) } },
    });
    const prom = new PromRegistry();
    const m = new EngineMetrics(registry, { promRegistry: prom, labels: { role: 'client' } });
    const text = await prom.metrics();
    for (const direction of ['in', 'out']) {
      for (const kind of ['open', 'data', 'window', 'reset'])
        expect(text).toContain(`vsockrpc_frames_total{role="client",direction="${direction}",kind="${kind}",type="lines"} 0`);
    }
    // Only the stream kinds: a stream method is never a REQUEST, and no frame counts as kind `unknown`.
    expect(text).not.toContain('kind="request",type="lines"');
    expect(text).not.toContain('kind="unknown"');
    for (const code of ['UNIMPLEMENTED', 'FLOW_CONTROL', 'STREAM_STATE']) expect(text).toContain(`vsockrpc_errors_total{role="client",code="${code}"} 0`);
    m.frameIn(200, 6, 20);
    expect(await prom.metrics()).toContain('vsockrpc_frames_total{role="client",direction="in",kind="data",type="lines"} 1');
  });
});
