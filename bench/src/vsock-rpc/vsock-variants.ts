// Every variant of the vsock workload, Node's and the C baseline: one guest boot per suite run
// (vm/guest.ts) measures every round of every variant, interleaved inside the guest; repetition k
// of a variant reports round k. The first repetition's wall time therefore includes the boot.
import { runGuest, type VsockGuestResult } from '../vm/guest.js';
import type { RunContext, Variant } from '../workload-contract.js';

export const VSOCK_CONFIGS = [
  { bufferSize: 0, highWaterMark: 0, label: 'default buffers' },
  { bufferSize: 1 << 20, highWaterMark: 1 << 20, label: '1 MiB buffers' },
] as const;
export const VSOCK_CHUNK = 64 * 1024;

let shared: { key: string; result: Promise<VsockGuestResult> } | undefined;

function guestRun(ctx: RunContext): Promise<VsockGuestResult> {
  const key = `${ctx.quick}/${ctx.reps}`;
  if (shared?.key !== key) {
    shared = {
      key,
      result: runGuest({
        bytes: ctx.limits.count,
        rounds: ctx.reps,
        configs: VSOCK_CONFIGS.map(({ bufferSize, highWaterMark }) => ({ bufferSize, highWaterMark })),
        timeoutMs: ctx.limits.seconds * 1000,
      }),
    };
  }
  return shared.result;
}

function variant(lang: 'node' | 'c', cfg: (typeof VSOCK_CONFIGS)[number]): Variant<'rate'> {
  const what =
    lang === 'node'
      ? `@vsock-rpc/vsock: echo server in a worker thread, client in the main thread, ${VSOCK_CHUNK / 1024} KiB writes`
      : `bench/c/vsock_echo.c (gcc -O2): echo server thread, writer thread, reader; ${VSOCK_CHUNK / 1024} KiB writes`;
  return {
    name: `${lang === 'node' ? 'Node' : 'C'}, ${cfg.label}`,
    description: `${what}; ${cfg.bufferSize ? `SO_VM_SOCKETS_BUFFER_SIZE ${cfg.bufferSize >> 20} MiB${lang === 'node' ? ', stream highWaterMark 1 MiB' : ''}` : 'kernel default vsock buffer (256 KiB)'}`,
    ...(lang === 'c' ? { baseline: true } : {}),
    async run(ctx) {
      const r = await guestRun(ctx);
      const rounds = r[lang].filter((x) => x.bufferSize === cfg.bufferSize);
      const round = rounds[ctx.rep - 1];
      if (!round) throw new Error(`the guest measured ${rounds.length} rounds of this variant, repetition ${ctx.rep} has none`);
      return { kind: 'rate', value: round.MBps, count: r.bytes, seconds: round.seconds, extra: { 'Mbit/s': round.mbps } };
    },
  };
}

export const vsockVariants: ReadonlyArray<Variant<'rate'>> = [
  variant('node', VSOCK_CONFIGS[0]),
  variant('c', VSOCK_CONFIGS[0]),
  variant('node', VSOCK_CONFIGS[1]),
  variant('c', VSOCK_CONFIGS[1]),
];
