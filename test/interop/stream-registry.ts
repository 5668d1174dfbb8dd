/**
 * The stream registry of PROTOCOL.md §11's worked examples: `lines` (server streaming) and
 * `total` (client streaming). test/protocol.test.ts checks that its canonical JSON is the
 * spec's block; the Python peer reads that block and opens `lines` against a real ServerEngine.
 */
import { Type } from '@sinclair/typebox';
import { defineRegistry } from '@vsock-rpc/wire';

export const streamExampleRegistry = defineRegistry({
  streams: {
    lines: {
      id: 200,
      mode: 'server',
      request: Type.Object({ n: Type.Integer({ minimum: 0, maximum: 1000 }) }),
      response: Type.Object({ i: Type.Integer(), text: Type.String() }),
    },
    total: { id: 201, mode: 'client', request: Type.Object({ x: Type.Integer() }), response: Type.Object({ sum: Type.Integer() }) },
  },
});
