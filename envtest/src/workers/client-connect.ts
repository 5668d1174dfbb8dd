/**
 * The guest's `connect` thread: a trace agent (ClientEngine + clock sync). Hook batches come in
 * on `port`; the agent converts their timestamps to the host clock and sends them. The hook's
 * watermark becomes the agent's (manual) watermark: it knows which events are still on their
 * way between the threads, the agent cannot.
 *
 * workerData: {@link ClientConnectConfig}. To main: 'ready' ({ clock }) or 'error' ({ message }),
 * 'stopped' ({ stats }) after the hook's last batch is sent and flushed. From main: 'stats'.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createTraceAgent, type TraceAgent } from '@vsock-rpc/trace';
import { boundedFlush } from './bounded-flush.js';
import { ack, type HookBatch } from '../channel.js';

/** Longest wait for the server's acknowledgements on exit (see the comment at close()). */
const ACK_WAIT_MS = 35_000;

/** Configuration of the client's connect thread. */
export interface ClientConnectConfig {
  /** From the hook thread. */
  port: MessagePort;
  connect: string;
  name: string;
  clockSkewNs: bigint;
  /** Longest wait for the collector, ms. */
  connectTimeoutMs: number;
  /** --timeout-scale: every protocol time limit × this. */
  timeoutScale: number;
}

const cfg = workerData as ClientConnectConfig;
const parent = parentPort!;

// The main thread stops the first connection when it gives up waiting (connect-wait.ts).
const connectAbort = new AbortController();
const onAbortConnect = (m: { type: string }) => {
  if (m.type === 'abortConnect') connectAbort.abort();
};
parent.on('message', onAbortConnect);

let agent: TraceAgent;
try {
  agent = await createTraceAgent({
    connect: cfg.connect,
    name: cfg.name,
    clockSkewNs: cfg.clockSkewNs,
    watermark: 'manual',
    // Bounded: at most this many events wait for the socket or for the server's ack (kept to be
    // resent after a reconnect); the rest are counted as dropped.
    maxBuffered: 200_000,
    connectTimeoutMs: cfg.connectTimeoutMs,
    timeoutScale: cfg.timeoutScale,
    signal: connectAbort.signal,
    logger: { warn: (m: string) => process.stderr.write(`envtest client: ${m}\n`) },
  });
} catch (err) {
  parent.postMessage({ type: 'error', message: (err as Error).message, code: (err as { code?: unknown }).code });
  process.exit(1); // ends this thread only
}

parent.off('message', onAbortConnect);
parent.postMessage({ type: 'ready', clock: agent.stats().clock });

let finishing = false;
cfg.port.on('message', (b: HookBatch) => {
  const n = b.ts.length;
  if (b.kinds === undefined) {
    for (let i = 0; i < n; i++) agent.emit({ ts: b.ts[i]!, text: b.texts[i] });
  } else {
    // ftrace events: kind and fields per event (undefined ones are simply absent).
    const fields = b.fields;
    for (let i = 0; i < n; i++) agent.emit({ ts: b.ts[i]!, kind: b.kinds[i], text: b.texts[i], fields: fields?.[i] });
  }
  agent.advance(b.watermark);
  ack(cfg.port, n);
  if (b.done && !finishing) {
    finishing = true;
    void finish();
  }
});

async function finish(): Promise<void> {
  const error = await boundedFlush(() => agent.flush(), cfg.timeoutScale);
  // close() waits (bounded) for the server's acks: after it, every event is acknowledged,
  // dropped or unconfirmed, exactly (TraceAgentStats). A server acks an event once its merge has
  // released it, which can take up to its lateness bound (a slow guest's server may run with
  // --lateness-ms 30000): the wait covers that. It ends at once when everything is acknowledged.
  await agent.close(ACK_WAIT_MS * cfg.timeoutScale).catch(() => {});
  parent.postMessage({ type: 'stopped', stats: { ...agent.stats(), connects: agent.engine.connectCount }, error });
  cfg.port.removeAllListeners('message');
  cfg.port.unref();
  parent.removeAllListeners('message');
  parent.unref();
}

parent.on('message', (m: { type: string }) => {
  if (m.type === 'stats') parent.postMessage({ type: 'stats', stats: agent.stats() });
});
