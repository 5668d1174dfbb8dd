/** Frame builders for the trace registry's ids, from the attacker's side. */
import { Control, Kind, encodeFrame, encodeHeader } from './frame.js';
import { packr } from './peer.js';

/** TYPE_ ids of the trace registry (packages/trace/src/registry.ts, as its HELLO `types` shows). */
export const TRACE_BATCH = 0x7000;
export const TRACE_AGENT_STATUS = 0x7001;

export const event = (type: number, payload: Buffer) => encodeFrame({ type, kind: Kind.EVENT, payload });
export const request = (type: number, id: number, payload: Buffer, flags = 0) => encodeFrame({ type, kind: Kind.REQUEST, id, flags, payload });
export const response = (type: number, id: number, payload: Buffer) => encodeFrame({ type, kind: Kind.RESPONSE, id, payload });
export const errorFrame = (type: number, id: number, payload: Buffer) => encodeFrame({ type, kind: Kind.ERROR, id, payload });
export const control = (type: number, id: number, payload: Buffer = Buffer.alloc(0)) => encodeFrame({ type, kind: Kind.CONTROL, id, payload });
export const ping = (id: number) => control(Control.PING, id);
export const goaway = (code: string, message = '') => control(Control.GOAWAY, 0, packr.pack({ code, message }));
export const header = encodeHeader;

/** Host monotonic clock in ns: the same CLOCK_MONOTONIC the server reads (one machine). */
export const monoNs = () => process.hrtime.bigint();

/** A well-formed traceBatch of `n` events from seq `seq0`, ts from `ts0` 1 µs apart. */
export function traceBatch(source: string, seq0: number, n: number, ts0: bigint, watermark?: bigint): Buffer {
  const events = Array.from({ length: n }, (_, i) => {
    const ts = ts0 + BigInt(i) * 1000n;
    return { seq: seq0 + i, ts, origTs: ts, errorBoundNs: 0n, kind: 'message', text: 'ADVERSARY' };
  });
  return packr.pack(watermark === undefined ? { source, events } : { source, events, watermark });
}
