// The wire registry of the vsock-rpc peers (message and method schemas; the peers by name are
// peer-registry.ts): the demo's exampleRegistry (messageexp, echo) plus a `blob` event carrying
// raw bytes for the bandwidth workloads. Payloads above the engine's inlineLimit (4 KiB) leave
// as their own writev chunk instead of being copied into the batch. Also the address and engine
// options those peers share.
import { Type } from '@sinclair/typebox';
import { defineRegistry, mergeRegistries } from '@vsock-rpc/wire';
import { exampleRegistry, type MessageExp } from '@vsock-rpc/wire/examples';
import { makeMessages } from './messageexp.js';

export const benchRegistry = mergeRegistries(
  exampleRegistry,
  defineRegistry({
    messages: {
      blob: { id: 200, schema: Type.Object({ data: Type.Uint8Array() }) },
    },
  }),
);
export type BenchRegistry = typeof benchRegistry;

export const address = (socketPath: string): string => `unix://${socketPath}`;

/** The suite's messageexp pool (same texts as the baselines) in the registry's field names. */
export function makeWireMessages(n: number): MessageExp[] {
  return makeMessages(n).map((m) => ({ timestamp: m.ts, str: m.text }));
}

/** Engine options every bench peer shares: no keepalive timers, no clock sync, no log lines. */
export const quietEngine = { registry: benchRegistry, logger: null, keepaliveMs: 0 } as const;
