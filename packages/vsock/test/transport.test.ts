// dial()/listen() over unix and tcp: the same events and `peer` for every transport.
// (vsock runs in the QEMU guest tier; hybrid has its own file.)
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  VsockAbortError,
  VsockAddressInUseError,
  VsockConnectionRefusedError,
  dial,
  formatAddress,
  listen,
  type TransportServer,
  type TransportSocket,
} from '../src/index.js';
import { readAll, readN, staleSocketFile, tempDir } from './helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** An echo server; returns the sockets it accepted. */
function echo(server: TransportServer): TransportSocket[] {
  const accepted: TransportSocket[] = [];
  server.on('connection', (s: TransportSocket) => {
    accepted.push(s);
    s.pipe(s);
  });
  return accepted;
}

describe('dial/listen over unix and tcp', () => {
  let dir: string;
  let cleanup: () => void;
  const servers: TransportServer[] = [];
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    cleanup();
  });
  const start = async (address: string, allowHalfOpen?: boolean): Promise<TransportServer> => {
    const s = await listen(address, allowHalfOpen === undefined ? {} : { allowHalfOpen });
    servers.push(s);
    return s;
  };

  const transports: Array<[string, () => string]> = [
    ['unix', () => `unix://${join(dir, 'echo.sock')}`],
    ['tcp', () => 'tcp://127.0.0.1:0'],
    ['tcp6', () => 'tcp://[::1]:0'],
  ];

  for (const [name, addr] of transports) {
    describe(name, () => {
      it('echoes 4 MiB with a matching checksum', async () => {
        const server = await start(addr());
        echo(server);
        const c = await dial(server.address);
        const data = randomBytes(4 << 20);
        const got = readAll(c);
        c.end(data);
        expect(sha(await got)).toBe(sha(data));
      });

      it('half-close (allowHalfOpen): the server answers after the client ended its side', async () => {
        const server = await start(addr(), true);
        server.on('connection', (s: TransportSocket) => {
          const parts: Buffer[] = [];
          s.on('data', (d: Buffer) => parts.push(d));
          s.on('end', () => setTimeout(() => s.end(`got ${Buffer.concat(parts).length} bytes`), 10));
        });
        const c = await dial(formatAddress(server.address), { allowHalfOpen: true });
        c.end(Buffer.alloc(1000));
        expect((await readAll(c)).toString()).toBe('got 1000 bytes');
      });

      it("default (as node:net): the peer's end also ends our side once our writes are flushed", async () => {
        const server = await start(addr());
        const serverClosed = new Promise<void>((r) =>
          server.once('connection', (s: TransportSocket) => {
            s.pipe(s);
            s.once('close', () => r());
          }),
        );
        const c = await dial(server.address);
        c.end('bye');
        expect((await readAll(c)).toString()).toBe('bye');
        await serverClosed;
      });

      it('gives both ends a peer, and address holds the real port', async () => {
        const server = await start(addr());
        const accepted = new Promise<TransportSocket>((r) => server.once('connection', r));
        const c = await dial(server.address);
        const s = await accepted;
        const a = server.address;
        expect(c.peer.transport).toBe(a.transport);
        expect(s.peer.transport).toBe(a.transport);
        if (a.transport === 'tcp') {
          expect(a.port).toBeGreaterThan(0);
          expect(c.peer.port).toBe(a.port);
          expect(c.peer.address).toEqual(a);
          expect(formatAddress(c.peer.address)).toBe(formatAddress(a));
          expect(formatAddress(s.peer.address)).toMatch(/^tcp:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
          expect(typeof c.setNoDelay).toBe('function');
        } else {
          expect(c.peer.address).toEqual(a);
          expect(formatAddress(c.peer.address)).toBe(formatAddress(a));
        }
        c.destroy();
        s.destroy();
      });

      it('close() stops accepting but leaves open connections alone', async () => {
        const server = await start(addr());
        echo(server);
        const c = await dial(server.address);
        let closed = 0;
        server.on('close', () => closed++);
        await server.close();
        await server.close(); // idempotent
        expect(closed).toBe(1);
        c.write('still here');
        expect((await readN(c, 10)).toString()).toBe('still here');
        await expect(dial(server.address)).rejects.toBeInstanceOf(VsockConnectionRefusedError);
        c.destroy();
      });

      it('abort rejects with VsockAbortError', async () => {
        const ac = new AbortController();
        ac.abort();
        await expect(dial(addr(), { signal: ac.signal })).rejects.toBeInstanceOf(VsockAbortError);
      });
    });
  }

  it('unix: refuses when no one listens (missing file)', async () => {
    const err = await dial(`unix://${join(dir, 'none.sock')}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsockConnectionRefusedError);
    expect((err as Error).message).toMatch(/no one listens/);
  });

  it('tcp: refuses when no one listens', async () => {
    const probe = await listen('tcp://127.0.0.1:0');
    const { address } = probe;
    await probe.close();
    await expect(dial(address)).rejects.toMatchObject({ name: 'VsockConnectionRefusedError', code: 'ECONNREFUSED' });
  });

  it('tcp: a taken port is EADDRINUSE', async () => {
    const a = await start('tcp://127.0.0.1:0');
    await expect(listen(a.address)).rejects.toBeInstanceOf(VsockAddressInUseError);
  });

  it('unix: removes a stale socket file nobody answers on', async () => {
    const path = join(dir, 'stale.sock');
    staleSocketFile(path);
    const server = await start(`unix://${path}`);
    echo(server);
    const c = await dial(`unix://${path}`);
    c.end('ok');
    expect((await readAll(c)).toString()).toBe('ok');
  });

  it('unix: a live listener or a regular file is EADDRINUSE, and left in place', async () => {
    const path = join(dir, 'live.sock');
    await start(`unix://${path}`);
    await expect(listen(`unix://${path}`)).rejects.toMatchObject({ name: 'VsockAddressInUseError', message: expect.stringMatching(/already answers/) });
    expect(existsSync(path)).toBe(true);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await expect(listen(`unix://${file}`)).rejects.toBeInstanceOf(VsockAddressInUseError);
    expect(existsSync(file)).toBe(true);
  });

  it('highWaterMark reaches both ends', async () => {
    const server = await listen('tcp://127.0.0.1:0', { highWaterMark: 1 << 20 });
    servers.push(server);
    const accepted = new Promise<TransportSocket>((r) => server.once('connection', r));
    const c = await dial(server.address, { highWaterMark: 1 << 20 });
    const s = await accepted;
    expect(c.writableHighWaterMark).toBe(1 << 20);
    expect(s.writableHighWaterMark).toBe(1 << 20);
    c.destroy();
    s.destroy();
  });

  it('unix: close() removes the socket file', async () => {
    const path = join(dir, 'gone.sock');
    const s = await listen(`unix://${path}`);
    expect(existsSync(path)).toBe(true);
    await s.close();
    expect(existsSync(path)).toBe(false);
  });
});
