// Guards the one use of Node internals (process.binding('pipe_wrap')): if a Node upgrade
// breaks opening a connected fd as a libuv stream, these tests fail loudly. An AF_UNIX
// socketpair stands in for a connected vsock fd (libuv treats both as plain stream fds).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { socketFromFd } from '../src/stream-handle.js';

function pair(allowHalfOpen = false): [net.Socket, net.Socket, number, number] {
  const [a, b] = native().socketpair();
  return [socketFromFd(a, { allowHalfOpen }), socketFromFd(b, { allowHalfOpen }), a, b];
}

function collect(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe("stream handle over process.binding('pipe_wrap')", () => {
  it('pipe_wrap still provides Pipe and constants.SOCKET', () => {
    const pw = (process as unknown as { binding(n: string): { Pipe?: unknown; constants?: { SOCKET?: unknown } } }).binding('pipe_wrap');
    expect(typeof pw.Pipe).toBe('function');
    expect(typeof pw.constants?.SOCKET).toBe('number');
  });

  it('carries 8 MiB each way with backpressure, then half-closes cleanly', async () => {
    const [a, b] = pair(true);
    expect(a).toBeInstanceOf(net.Socket);
    const ab = randomBytes(8 << 20);
    const ba = randomBytes(8 << 20);
    const gotB = collect(b);
    const gotA = collect(a);
    // Write in 64 KiB chunks honouring write()'s return value.
    const pump = async (s: net.Socket, data: Buffer): Promise<void> => {
      for (let off = 0; off < data.length; off += 65536) {
        if (!s.write(data.subarray(off, off + 65536))) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    };
    await Promise.all([pump(a, ab), pump(b, ba)]);
    const [rb, ra] = await Promise.all([gotB, gotA]);
    expect(sha(rb)).toBe(sha(ab));
    expect(sha(ra)).toBe(sha(ba));
    a.destroy();
    b.destroy();
  });

  it('half-close: the reader sees end while it can still answer', async () => {
    const [a, b, fa] = pair(true);
    b.on('data', () => {});
    b.once('end', () => b.end('reply after your end'));
    a.end('request');
    const reply = await collect(a);
    expect(reply.toString()).toBe('reply after your end');
    await new Promise((r) => a.once('close', r));
    // The handle owned the fd and closed it.
    expect(() => fstatSync(fa)).toThrow(/EBADF/);
    b.destroy();
  });

  it('writev (cork) works and destroy emits one close', async () => {
    const [a, b] = pair();
    const got = new Promise<string>((resolve) => {
      let s = '';
      b.on('data', (d: Buffer) => {
        s += d.toString();
        if (s.length >= 6) resolve(s);
      });
    });
    a.cork();
    a.write('ab');
    a.write('cd');
    a.write('ef');
    a.uncork();
    expect(await got).toBe('abcdef');
    let closes = 0;
    a.on('close', () => closes++);
    const bClosed = new Promise((r) => b.once('close', r));
    a.destroy();
    a.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(1);
    await bClosed; // the peer saw EOF and, without allowHalfOpen, closed too
  });

  it('rejects a bad fd with a code, leaving nothing open', () => {
    expect(() => socketFromFd(987654)).toThrow(expect.objectContaining({ code: expect.any(String) }));
  });

  it('prints no deprecation warning in normal use', () => {
    // A fresh process loads the built package and opens stream handles; stderr must stay empty.
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const code = `
      const m = await import(${JSON.stringify(dist)});
      const { createRequire } = await import('node:module');
      const n = createRequire(${JSON.stringify(dist)})('../build/Release/vsock.node');
      const [x, y] = n.socketpair();
      const a = m.socketFromFd(x), b = m.socketFromFd(y);
      a.destroy(); b.destroy();
      process.stdout.write('ok');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
    expect(r.status).toBe(0);
  });
});
