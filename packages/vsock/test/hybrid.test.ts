// Hybrid vsock against a fake Firecracker muxer: a unix socket that speaks the
// `CONNECT <port>\n` / `OK <hostport>\n` text protocol, with every failure mode we handle.
import net from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  HybridHandshakeError,
  VsockAbortError,
  VsockAddressInUseError,
  VsockConnectionRefusedError,
  dial,
  formatAddress,
  dialHybrid,
  hybridListenPath,
  listen,
  type TransportSocket,
} from '../src/index.js';
import { readAll, readN, staleSocketFile, tempDir } from './helpers.js';

type Behaviour = (conn: net.Socket, line: string) => void;

/** Starts a fake muxer at `path`: reads the CONNECT line (any split), then runs `behave`. */
async function fakeMuxer(path: string, behave: Behaviour): Promise<{ server: net.Server; lines: string[] }> {
  const lines: string[] = [];
  const server = net.createServer((conn) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      conn.off('data', onData);
      const line = buf.slice(0, nl);
      lines.push(line);
      behave(conn, line);
    };
    conn.on('data', onData);
    conn.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, lines };
}

/** Writes `text` one byte per write, each in its own tick so the reader sees split reads. */
async function dribble(conn: net.Socket, text: string): Promise<void> {
  for (const ch of Buffer.from(text, 'latin1')) {
    conn.write(Buffer.from([ch]));
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('hybrid vsock (Firecracker muxer protocol)', () => {
  let dir: string;
  let cleanup: () => void;
  let uds: string;
  const servers: net.Server[] = [];
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    uds = join(dir, 'v.sock');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    cleanup();
  });
  const muxer = async (b: Behaviour): Promise<string[]> => {
    const m = await fakeMuxer(uds, b);
    servers.push(m.server);
    return m.lines;
  };

  it('accepts: sends CONNECT <port>, reads OK, then carries data both ways', async () => {
    const lines = await muxer((conn) => {
      conn.write('OK 1073741824\n');
      conn.pipe(conn); // echo, as the guest program would
    });
    const s = await dialHybrid(uds, 52);
    expect(lines).toEqual(['CONNECT 52']);
    expect(s.hostPort).toBe(1073741824);
    expect(s.peer).toEqual({ transport: 'hybrid', address: { transport: 'hybrid', path: uds, port: 52 }, port: 52 });
    expect(formatAddress(s.peer.address)).toBe(`hybrid://${uds}:52`);
    s.write('ping');
    expect((await readN(s, 4)).toString()).toBe('ping');
    s.destroy();
  });

  it('keeps bytes that follow the OK line in the same write', async () => {
    await muxer((conn) => {
      conn.end('OK 7\nhello from the guest');
    });
    const s = await dial(`hybrid://${uds}:9`);
    expect((await readAll(s)).toString()).toBe('hello from the guest');
  });

  it('keeps following bytes when they arrive before anyone reads (late data listener)', async () => {
    await muxer((conn) => conn.end('OK 7\nearly'));
    const s = await dialHybrid(uds, 9);
    await new Promise((r) => setTimeout(r, 30));
    expect((await readAll(s)).toString()).toBe('early');
  });

  it('survives the answer split into one-byte reads, then data', async () => {
    await muxer((conn) => {
      void dribble(conn, 'OK 1234\nxyz').then(() => conn.end());
    });
    const s = await dialHybrid(uds, 5);
    expect(s.hostPort).toBe(1234);
    expect((await readAll(s)).toString()).toBe('xyz');
  });

  it('sends exactly "CONNECT <port>\\n" and nothing else before the answer', async () => {
    let raw = '';
    const server = net.createServer((conn) => {
      conn.on('data', (d) => {
        raw += d.toString();
        if (raw.endsWith('\n')) conn.write('OK 1\n');
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(uds, r));
    const s = await dialHybrid(uds, 4294967294);
    expect(raw).toBe('CONNECT 4294967294\n');
    s.destroy();
  });

  it('refusal with an error line → HybridHandshakeError carrying the line', async () => {
    await muxer((conn) => conn.end('ERR no listener on port 52\n'));
    const err = await dialHybrid(uds, 52).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HybridHandshakeError);
    const e = err as HybridHandshakeError;
    expect(e.code).toBe('EHYBRIDHANDSHAKE');
    expect(e.reason).toBe('refused');
    expect(e.received).toBe('ERR no listener on port 52\n');
    expect(e.message).toContain('"ERR no listener on port 52"');
  });

  it('malformed OK → HybridHandshakeError(malformed)', async () => {
    await muxer((conn) => conn.write('OK banana\n'));
    await expect(dialHybrid(uds, 52)).rejects.toMatchObject({ reason: 'malformed', received: 'OK banana\n' });
  });

  it('close before answering (Firecracker: nobody listens) → HybridHandshakeError(closed)', async () => {
    await muxer((conn) => conn.end());
    const err = (await dialHybrid(uds, 52).catch((e: unknown) => e)) as HybridHandshakeError;
    expect(err).toBeInstanceOf(HybridHandshakeError);
    expect(err.reason).toBe('closed');
    expect(err.received).toBe('');
    expect(err.message).toMatch(/no guest program listens on vsock port 52/);
  });

  it('close after a partial line → closed, saying what came back', async () => {
    await muxer((conn) => conn.end('OK 12'));
    await expect(dialHybrid(uds, 52)).rejects.toMatchObject({ reason: 'closed', received: 'OK 12', message: expect.stringContaining('"OK 12"') });
  });

  it('silence → HybridHandshakeError(timeout)', async () => {
    await muxer(() => {});
    await expect(dialHybrid(uds, 52, { timeoutMs: 100 })).rejects.toMatchObject({ reason: 'timeout', name: 'HybridHandshakeError' });
  });

  it('an endless line without newline → malformed, bounded', async () => {
    await muxer((conn) => conn.write('x'.repeat(10_000)));
    await expect(dialHybrid(uds, 52)).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('no muxer socket → VsockConnectionRefusedError', async () => {
    await expect(dialHybrid(join(dir, 'missing.sock'), 52)).rejects.toBeInstanceOf(VsockConnectionRefusedError);
  });

  it('abort during the handshake → VsockAbortError', async () => {
    await muxer(() => {});
    const ac = new AbortController();
    const p = dialHybrid(uds, 52, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toBeInstanceOf(VsockAbortError);
  });

  it('listen: guest-initiated connections arrive on <uds>_<port>', async () => {
    const server = await listen(`hybrid://${uds}:1234`);
    expect(server.address).toEqual({ transport: 'hybrid', path: uds, port: 1234 });
    expect(hybridListenPath(uds, 1234)).toBe(`${uds}_1234`);
    expect(existsSync(`${uds}_1234`)).toBe(true);
    const got = new Promise<TransportSocket>((r) => server.once('connection', r));
    // What Firecracker does when the guest connects to CID 2 port 1234.
    const guest = net.connect(`${uds}_1234`);
    const conn = await got;
    expect(conn.peer).toEqual({ transport: 'hybrid', address: { transport: 'hybrid', path: uds, port: 1234 } });
    conn.pipe(conn);
    guest.end('from guest');
    expect((await readAll(guest)).toString()).toBe('from guest');
    await server.close();
    expect(existsSync(`${uds}_1234`)).toBe(false);
  });

  it('listen replaces a stale <uds>_<port> but not a live one or a regular file', async () => {
    staleSocketFile(`${uds}_7`);
    const s0 = await listen(`hybrid://${uds}:7`);
    await s0.close();
    const s1 = await listen(`hybrid://${uds}:8`);
    await expect(listen(`hybrid://${uds}:8`)).rejects.toBeInstanceOf(VsockAddressInUseError);
    await s1.close();
    writeFileSync(`${uds}_9`, 'not a socket');
    await expect(listen(`hybrid://${uds}:9`)).rejects.toThrow(/not a socket/);
  });
});
