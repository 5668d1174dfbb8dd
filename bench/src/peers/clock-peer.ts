// The two processes of the suite's `clock` workload (its variants: vsock-rpc/clock-variants.ts).
// The server's engine clock is skewed by a known amount (clockSkewNs); the client measures the
// offset with the burst/min-delay method and with the original's single exchange, idle and while it
// streams messageexp events to the server on the same connection, and reports every estimate's
// error against the known truth.
//
// The module has both roles in the shape of peer-ipc.ts's PeerModule, so the suite runner can load
// it like any other peer; run as a fork entry of its own it speaks the same IPC protocol (a 'start'
// message, 'ready' / 'result' / 'error' replies, 'stop').
import { ClientEngine, ClockSync, ServerEngine, sampleOffset, syncClock, type ClockExchange } from '@vsock-rpc/engine';
import { exampleRegistry, type MessageExp } from '@vsock-rpc/wire/examples';
import type { PeerContext } from './peer-ipc.js';

export interface ClockServerParams {
  /** The server engine's clockSkewNs, as a decimal string (IPC is JSON: no bigint). */
  readonly skewNs: string;
}

export interface ClockClientParams {
  /** True offset (client clock − server clock), decimal ns. */
  readonly trueOffsetNs: string;
  /** Syncs per phase. */
  readonly syncs: number;
  /** Exchanges per burst. */
  readonly samples: number;
  /** Load: messageexp events per second during the loaded phase. */
  readonly rate: number;
  /** Pause between syncs, ms (spreads the syncs over the load's phases). */
  readonly gapMs: number;
  /** Syncs before the measurement (JIT warm-up, not recorded). */
  readonly warmup: number;
}

/** One estimate: when (ms since its phase began), its error against the truth, its delay and bound. */
export interface ClockPoint {
  readonly tMs: number;
  readonly errorNs: number;
  readonly delayNs: number;
  readonly boundNs: number;
}

/** The series of one phase (idle or loaded). */
export interface ClockPhase {
  /** syncClock() with a fixed burst of `samples`, minimum delay kept. */
  readonly fixed: ClockPoint[];
  /** ClockSync.sync(): the engine's default, an adaptive burst (samples … 4 × samples). */
  readonly adaptive: ClockPoint[];
  /** ClockSync's model (offset getter) right after each sync: anchor selection + drift. */
  readonly model: ClockPoint[];
  /** Samples taken per adaptive burst. */
  readonly adaptiveSamples: number[];
  /** The original's method: one exchange, taken as is. */
  readonly single: ClockPoint[];
}

export interface ClockClientResult {
  readonly idle: ClockPhase;
  readonly load: ClockPhase;
  /** Events the load generator handed to send() and the seconds it ran. */
  readonly eventsSent: number;
  readonly eventsDropped: number;
  /** Events the server had handled when it answered the end-of-load marker. */
  readonly eventsHandled: number;
  /** ms from the end of the load until the server had handled every event: its backlog. */
  readonly backlogMs: number;
  readonly loadSeconds: number;
  /** Slices in which the generator could not catch up with its schedule, and the events it skipped. */
  readonly lateSlices: number;
  readonly eventsSkipped: number;
}

export interface ClockServerResult {
  readonly eventsReceived: number;
}

const address = (socketPath: string): string => `unix://${socketPath}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function server(ctx: PeerContext<ClockServerParams>): Promise<ClockServerResult> {
  const engine = await ServerEngine.listen(address(ctx.socketPath), {
    registry: exampleRegistry,
    clockSkewNs: BigInt(ctx.params.skewNs),
    logger: null,
    keepaliveMs: 0,
  });
  let eventsReceived = 0;
  // A handler per event, like a real receiver: the server's loop decodes, validates and
  // dispatches every one, which is what delays a clock request queued behind them.
  engine.on('messageexp', () => {
    eventsReceived++;
  });
  // The client's end-of-load marker: answered after every event before it was handled (one
  // byte stream, decoded in order), carrying the count in `timestamp`.
  engine.handle('echo', () => ({ timestamp: BigInt(eventsReceived), str: 'COUNT' }));
  ctx.ready();
  await ctx.stopped;
  await engine.close(1000);
  return { eventsReceived };
}

function makeMessages(n: number): MessageExp[] {
  let x = 2463534242;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  const out: MessageExp[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rand() * 65);
    let str = '';
    for (let j = 0; j < len; j++) str += String.fromCharCode(65 + Math.floor(rand() * 26));
    out.push({ timestamp: 1_700_000_000_000_000_000n + BigInt(i), str });
  }
  return out;
}

/** Sends `rate` events/s in 1 ms slices: each tick sends what the schedule says is due. */
function startLoad(client: ClientEngine<typeof exampleRegistry>, rate: number) {
  const messages = makeMessages(1024);
  const start = process.hrtime.bigint();
  const perSlice = rate / 1000;
  let scheduled = 0; // position in the schedule
  let sent = 0;
  let late = 0;
  let skipped = 0;
  const timer = setInterval(() => {
    const due = Math.floor((Number(process.hrtime.bigint() - start) * rate) / 1e9);
    let n = due - scheduled;
    // Catch up at most 10 slices at once; further behind (a starved process), the schedule
    // moves on and the events it skipped are counted, not sent in one huge burst.
    if (n > perSlice * 10) {
      late++;
      skipped += n - perSlice * 10;
      scheduled += n - perSlice * 10;
      n = perSlice * 10;
    }
    for (let i = 0; i < n; i++) {
      const m = messages[(sent + i) & 1023]!;
      m.timestamp = process.hrtime.bigint();
      void client.send('messageexp', m);
    }
    sent += n;
    scheduled += n;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return { sent, late, skipped, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
    },
  };
}

export async function client(ctx: PeerContext<ClockClientParams>): Promise<ClockClientResult> {
  const p = ctx.params;
  const truth = BigInt(p.trueOffsetNs);
  const engine = await ClientEngine.connect(address(ctx.socketPath), {
    registry: exampleRegistry,
    clock: false, // the benchmark drives every sync itself
    reconnect: false,
    keepaliveMs: 0,
    logger: null,
    queue: { policy: 'drop-newest' }, // never a backlog that outlives its phase
  });
  const exchange: ClockExchange = (t) => engine.clockExchange(t);
  const point = (t0: bigint, offsetNs: bigint, delayNs: bigint, boundNs: bigint): ClockPoint => ({
    tMs: Number(process.hrtime.bigint() - t0) / 1e6,
    errorNs: Number(offsetNs - truth),
    delayNs: Number(delayNs),
    boundNs: Number(boundNs),
  });

  const clock = new ClockSync(exchange, { samples: p.samples, now: engine.now }); // driven by hand: no timers
  /** One phase: the methods interleaved, in rotating order, so that each sees the same conditions. */
  const phase = async (syncs: number, record: boolean): Promise<ClockPhase> => {
    const out: ClockPhase = { fixed: [], adaptive: [], model: [], adaptiveSamples: [], single: [] };
    const t0 = process.hrtime.bigint();
    const methods = [
      async () => {
        const r = await syncClock(exchange, { samples: p.samples });
        if (record) out.fixed.push(point(t0, r.offsetNs, r.delayNs, r.errorBoundNs));
      },
      async () => {
        const r = await clock.sync();
        if (!record) return;
        out.adaptive.push(point(t0, r.offsetNs, r.delayNs, r.errorBoundNs));
        out.adaptiveSamples.push(r.samples);
        const now = engine.now();
        out.model.push(point(t0, clock.model!.offsetAt(now), 0n, clock.model!.errorBoundAt(now)));
      },
      async () => {
        const e = sampleOffset(await exchange(1000));
        if (record) out.single.push(point(t0, e.offsetNs, e.delayNs, e.errorBoundNs));
      },
    ];
    for (let i = 0; i < syncs; i++) {
      for (let k = 0; k < methods.length; k++) await methods[(i + k) % methods.length]!();
      await sleep(p.gapMs);
    }
    return out;
  };

  // Warm-up, not recorded: JIT on both sides, and the first bursts' delays are still those of a
  // cold path (the engine's first syncs after a connect are less accurate, and their bounds say so).
  await phase(p.warmup, false);
  clock.reset();
  const idle = await phase(p.syncs, true);

  const load = startLoad(engine, p.rate);
  // Let the stream reach its steady state: at its start the server (whose event path the warm-up
  // did not exercise) falls behind by hundreds of ms, and a clock request waits behind that
  // backlog in the byte stream; that transient is not what the loaded figures are about.
  await sleep(1000);
  const loaded = await phase(p.syncs, true);
  const l = load.stop();
  const dropped = engine.queue.stats();
  // How far behind the server was when the load stopped: the time until it has handled every
  // event sent (flush, then a call, which is decoded after them).
  const stoppedAt = process.hrtime.bigint();
  await engine.flush();
  const marker = await engine.call('echo', { timestamp: 0n, str: 'COUNT' }, { timeoutMs: 30_000 });
  const backlogMs = Number(process.hrtime.bigint() - stoppedAt) / 1e6;
  await engine.close(2000);
  return {
    idle,
    load: loaded,
    eventsSent: l.sent,
    eventsHandled: Number(marker.timestamp),
    backlogMs,
    eventsDropped: dropped.droppedNewest + dropped.droppedOldest + dropped.rejected,
    loadSeconds: l.seconds,
    lateSlices: l.late,
    eventsSkipped: l.skipped,
  };
}
