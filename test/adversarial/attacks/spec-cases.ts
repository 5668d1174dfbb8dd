/**
 * Attack 11: the spec cases the lead is settling in PROTOCOL.md: an undecodable GOAWAY; an
 * unsolicited RESPONSE/ERROR (ignored, the connection stays: PING/PONG proves it); a REQUEST to a
 * reserved id (ERROR UNKNOWN_METHOD, connection stays); EVENT/REQUEST after our own GOAWAY.
 */
import { runCases, type CaseSpec } from '../lib/case.js';
import { TRACE_BATCH, errorFrame, event, goaway, control, request, response, traceBatch, monoNs } from '../lib/frames.js';
import { Control } from '../lib/frame.js';
import { packr } from '../lib/peer.js';
import { tally, type Attack } from '../harness/types.js';

export const specCases: Attack = async (env) => {
  const specs: CaseSpec[] = [
    { name: 'GOAWAY with an undecodable payload', hello: true, bytes: control(Control.GOAWAY, 0, Buffer.from([0xc1])), expect: { goaway: ['PROTOCOL_ERROR'] } },
    {
      name: 'GOAWAY payload not an ErrorPayload (an int)',
      hello: true,
      bytes: control(Control.GOAWAY, 0, packr.pack(5)),
      expect: { goaway: ['PROTOCOL_ERROR'] },
    },
    { name: 'unsolicited RESPONSE, type 0x7000', hello: true, bytes: response(TRACE_BATCH, 12345, packr.pack({ a: 1 })), expect: { open: true } },
    { name: 'unsolicited RESPONSE, type 0x1234', hello: true, bytes: response(0x1234, 1, packr.pack(null)), expect: { open: true } },
    { name: 'unsolicited RESPONSE, type 0xFFFF', hello: true, bytes: response(0xffff, 7, Buffer.alloc(0)), expect: { open: true } },
    {
      name: 'unsolicited ERROR, type 0x7000',
      hello: true,
      bytes: errorFrame(TRACE_BATCH, 999, packr.pack({ code: 'X', message: 'y' })),
      expect: { open: true },
    },
    { name: 'unsolicited ERROR, type 0xFF00, undecodable', hello: true, bytes: errorFrame(0xff00, 3, Buffer.from([0xc1])), expect: { open: true } },
    { name: 'unsolicited CLOCK_RESPONSE (24 bytes)', hello: true, bytes: control(Control.CLOCK_RESPONSE, 77, Buffer.alloc(24)), expect: { open: true } },
    ...[0xff00, 0xff01, 0xff04, 0xff80, 0xffff].map((t): CaseSpec => ({
      name: `REQUEST to reserved id 0x${t.toString(16).toUpperCase()}`,
      hello: true,
      bytes: request(t, 31, packr.pack({})),
      expect: { error: ['UNKNOWN_METHOD'], id: 31 },
    })),
    { name: 'REQUEST to a message id (0x7000)', hello: true, bytes: request(TRACE_BATCH, 32, packr.pack({})), expect: { error: ['UNKNOWN_METHOD'], id: 32 } },
    {
      name: 'EVENT after our own GOAWAY SHUTDOWN',
      hello: true,
      bytes: [goaway('SHUTDOWN', 'bye'), event(TRACE_BATCH, traceBatch('after-goaway', 0, 1, monoNs()))],
      expect: { goaway: ['PROTOCOL_ERROR'] },
    },
    {
      name: 'REQUEST after our own GOAWAY SHUTDOWN',
      hello: true,
      bytes: [goaway('SHUTDOWN', 'bye'), request(TRACE_BATCH, 5, packr.pack({}))],
      expect: { goaway: ['PROTOCOL_ERROR'] },
    },
  ];
  const results = await runCases(env.port, specs, 4);
  return {
    sent: `${specs.length} spec cases, one connection each`,
    closeCodes: tally(results.map((r) => r.outcome)),
    failures: results.filter((r) => !r.ok).map((r) => `${r.name}: got ${r.outcome}`),
    notes: results.filter((r) => r.ok).map((r) => `${r.name}: ${r.outcome}`),
  };
};
