// The contract between the runner and a workload: the types a workload definition
// (workload-definitions.ts) and its variants (baselines/, vsock-rpc/) are written against. A
// workload is one question ("how many small events per second?"); its variants are the
// contenders (vsock-rpc, raw socket, grpc-js, …), each measured in the same run so that ratios
// between them survive a noisy machine.

/** Where the server and client peers run. Latency depends heavily on it: on these VMs waking
 *  the second CPU costs ~50 µs, so every latency figure is labelled with its placement. */
export type Placement = 'unpinned' | 'same-cpu' | 'across-cpus';

/** CPU each peer is pinned to (taskset -c), or null for unpinned. */
export interface CpuPlan {
  readonly server: number | null;
  readonly client: number | null;
}

/** Every run is bounded both ways: whichever of `count` and `seconds` is reached first ends it.
 *  `warmup` operations run first and are not measured (JIT, socket buffers, page faults). */
export interface Limits {
  readonly count: number;
  readonly seconds: number;
  readonly warmup: number;
}

/** A single figure per repetition: events/s, MB/s, calls/s (the workload's `unit`). */
export interface RateSample {
  readonly kind: 'rate';
  /** the figure in the workload's unit */
  readonly value: number;
  /** operations measured and the measured window; kept so the JSON can be re-derived */
  readonly count: number;
  readonly seconds: number;
  /** secondary figures by label, e.g. { 'MB/s': 61.2 } next to events/s */
  readonly extra?: Readonly<Record<string, number>>;
}

/** A latency distribution. The histogram crosses the process boundary in HdrHistogram's
 *  compressed base64 form, values in nanoseconds (see peers/latency-histogram.ts), so
 *  repetitions can be merged exactly for the percentile chart instead of averaging percentiles. */
export interface LatencySample {
  readonly kind: 'latency';
  readonly histogram: string;
  readonly count: number;
  readonly seconds: number;
}

/** Something observed over time (RSS, clock error). `value` is the headline figure for the
 *  table (e.g. peak RSS, worst |clock error|); `valueLabel` says which. */
export interface SeriesSample {
  readonly kind: 'series';
  /** [seconds since start, value in `unit`] */
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly value: number;
  readonly valueLabel: string;
  readonly extra?: Readonly<Record<string, number>>;
}

export type Sample = RateSample | LatencySample | SeriesSample;
export type SampleKind = Sample['kind'];
export type SampleOf<K extends SampleKind> = Extract<Sample, { kind: K }>;

/** What the runner hands a variant for one repetition in one placement. */
export interface RunContext {
  readonly quick: boolean;
  readonly limits: Limits;
  readonly placement: Placement;
  readonly cpus: CpuPlan;
  /** 1-based */
  readonly rep: number;
  readonly reps: number;
  /** fresh private directory for this run (socket files, generated .proto), removed afterwards */
  readonly tmpDir: string;
  /** aborted at the run's hard deadline (limits.seconds plus a grace period) */
  readonly signal: AbortSignal;
  /** Forks the server peer, waits until it listens on `<tmpDir>/peer.sock`, forks the client,
   *  and resolves with both roles' results. Both are pinned according to `cpus`. */
  runPeers<S, C>(spec: PeerPairSpec): Promise<PeerPairResult<S, C>>;
}

export interface PeerPairSpec {
  /** a key of peers/peer-registry.ts */
  readonly impl: string;
  /** JSON-serialisable parameters given to both roles */
  readonly params: Readonly<Record<string, unknown>>;
}

export interface PeerPairResult<S, C> {
  readonly server: S;
  readonly client: C;
}

export interface Variant<K extends SampleKind = SampleKind> {
  /** 'vsock-rpc', 'raw socket', 'grpc-js', … — unique within its workload */
  readonly name: string;
  /** one line for the report: what this contender does */
  readonly description?: string;
  /** baselines are the denominators of the ratio columns */
  readonly baseline?: boolean;
  /** repetitions in a --quick run when fewer than the workload's (a slow-starting contender) */
  readonly quickReps?: number;
  run(ctx: RunContext): Promise<SampleOf<K>>;
}

export interface Workload<K extends SampleKind = SampleKind> {
  /** short id used by --only and as the chart file name */
  readonly name: string;
  readonly title: string;
  /** one or two sentences for the report: what is measured and how */
  readonly description: string;
  readonly kind: K;
  /** unit of the headline figure: 'events/s', 'MB/s', 'calls/s', 'µs', 'MB' */
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly placements: readonly Placement[];
  readonly limits: { readonly full: Limits; readonly quick: Limits };
  readonly variants: ReadonlyArray<Variant<K>>;
  /** repetitions when the suite's default does not fit (a long series, one guest boot);
   *  --reps still overrides */
  readonly reps?: { readonly full: number; readonly quick: number };
  /** placements of a --quick run when fewer than `placements` (the report says so) */
  readonly quickPlacements?: readonly Placement[];
  /** null when the workload can run here, else why not: it is then skipped and the report says why */
  readonly unavailable?: (quick: boolean, explicitlySelected: boolean) => string | null | Promise<string | null>;
  /** the series chart: y axis label and scale */
  readonly chart?: { readonly yLabel?: string; readonly logY?: boolean };
}

/** Any workload, keeping the link between `kind` and what its variants return. */
export type AnyWorkload = Workload<'rate'> | Workload<'latency'> | Workload<'series'>;
