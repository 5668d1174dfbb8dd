/**
 * One error family (issue 12): every error the packages throw is a VsockRpcError with a stable
 * `code`, whichever package threw it. This test lives in envtest because envtest is the one
 * workspace that depends on all of them (a test in @vsock-rpc/errors importing the packages that
 * depend on it would make a dependency cycle for turbo).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadKindError, FrameDecoder, HEADER_SIZE, ProtocolError, VsockRpcError, defineRegistry } from '@vsock-rpc/wire';
import { AddressError, VsockConnectionRefusedError, VsockError, VsockRpcError as VsockBase, formatAddress, parseAddress } from '@vsock-rpc/vsock';
import { ClientEngine, ConnectionClosedError, ServerEngine, VsockRpcError as EngineBase, pickMinDelay } from '@vsock-rpc/engine';
import { TraceError, WatermarkMerge, parseJsonLine } from '@vsock-rpc/trace';
import { UsageError, parseCommand } from '../src/args.js';
import { serverSpec } from '../src/commands/server.js';
import { EnvtestError } from '../src/errors.js';

const registry = defineRegistry({ messages: {}, methods: {} });

/** What `fn` threw or rejected with. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

function expectFamily(err: unknown, code: string, cls?: abstract new (...a: never[]) => Error): VsockRpcError {
  expect(err).toBeInstanceOf(VsockRpcError);
  if (cls) expect(err).toBeInstanceOf(cls);
  expect((err as VsockRpcError).code).toBe(code);
  expect((err as Error).message).not.toContain('[object Object]');
  return err as VsockRpcError;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'error-family-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('one error family', () => {
  it('wire, vsock and engine export the one base class (of @vsock-rpc/errors)', () => {
    expect(VsockBase).toBe(VsockRpcError);
    expect(EngineBase).toBe(VsockRpcError);
  });

  it('vsock: the address parser throws a VsockError (an AddressError)', async () => {
    const e = expectFamily(await caught(() => parseAddress('vsock:/3:5000')), 'ERR_VSOCK_ADDRESS', AddressError);
    expect(e).toBeInstanceOf(VsockError);
  });

  it('wire: the frame decoder throws a ProtocolError', async () => {
    const header = Buffer.alloc(HEADER_SIZE);
    header[6] = 9; // no such kind
    const e = await caught(() => new FrameDecoder(() => {}).push(header));
    expectFamily(e, 'BAD_KIND', BadKindError);
    expect(e).toBeInstanceOf(ProtocolError);
  });

  it('engine: connect rejects with the family for a bad address and for a refused one', async () => {
    expectFamily(await caught(() => ClientEngine.connect('nope', { registry, logger: null })), 'ERR_VSOCK_ADDRESS', AddressError);
    const missing = `unix://${join(dir, 'nobody.sock')}`;
    const e = expectFamily(
      await caught(() => ClientEngine.connect(missing, { registry, logger: null, reconnect: false, clock: false })),
      'ENOENT',
      VsockConnectionRefusedError,
    );
    // node-style fields: the syscall and the address, formatted.
    expect(e.syscall).toBe('connect');
    expect(e.address).toBe(missing);
    expectFamily(await caught(() => pickMinDelay([])), 'ERR_INVALID_ARG_VALUE');
  });

  it('engine: recv() on a closed engine rejects with ConnectionClosedError; addresses are objects shown by formatAddress', async () => {
    const listen = `unix://${join(dir, 'server.sock')}`;
    const server = await ServerEngine.listen(listen, { registry, logger: null });
    const client = await ClientEngine.connect(listen, { registry, logger: null, clock: false });
    try {
      expect(client.address).toEqual(parseAddress(listen));
      expect(formatAddress(server.address)).toBe(listen);
      expect(client.peer?.address).toEqual(server.address);
    } finally {
      await client.close(0);
      await server.close(0);
    }
    expectFamily(await caught(() => client.recv()), 'UNAVAILABLE', ConnectionClosedError);
  });

  it('trace: bad options and bad lines throw TraceError', async () => {
    expectFamily(await caught(() => new WatermarkMerge({ maxBuffered: 0 })), 'ERR_INVALID_ARG_VALUE', TraceError);
    expectFamily(await caught(() => parseJsonLine('{')), 'ERR_TRACE_BAD_LINE', TraceError);
  });

  it('envtest: a usage mistake is a UsageError of the family', async () => {
    const e = expectFamily(await caught(() => parseCommand(serverSpec, ['--listn', 'x'])), 'ERR_USAGE', UsageError);
    expect(e).toBeInstanceOf(EnvtestError);
    expect(e.name).toBe('UsageError');
  });
});
