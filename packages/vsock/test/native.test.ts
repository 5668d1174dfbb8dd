// Error paths of the AF_VSOCK addon that need no peer. SAFETY: on this machine no test may
// connect() or listen() an AF_VSOCK socket (its /dev/vsock leads to foreign infrastructure):
// only socket(), bind() to a foreign CID, the local-CID ioctl, sockopts on an unconnected
// socket and argument validation. Real connects run in the QEMU guest tier (test/vm).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  VsockAbortError,
  VsockAddressNotAvailableError,
  VsockError,
  VsockInvalidArgumentError,
  VsockServer,
  connectVsock,
  createVsockServer,
  dial,
  getLocalCid,
  listen,
  AddressError,
} from '../src/index.js';
import { toVsockError } from '../src/guidance.js';
import { native } from '../src/native.js';

const haveVsock = existsSync('/dev/vsock');
const FOREIGN_CID = 12345;

describe.skipIf(!haveVsock)('vsock addon: error paths without a peer', () => {
  it('socket() gives a non-blocking fd that getsockname reports as unbound', () => {
    const n = native();
    const fd = n.socket();
    try {
      expect(fd).toBeGreaterThan(2);
      expect(n.getsockname(fd)).toEqual({ cid: 0xffffffff, port: 0xffffffff });
      expect(n.getBufferSize(fd)).toBeGreaterThan(0);
      n.setBufferSize(fd, 128 * 1024);
      expect(n.getBufferSize(fd)).toBe(128 * 1024);
      // Above the default 256 KiB maximum: the addon raises SO_VM_SOCKETS_BUFFER_MAX_SIZE first.
      n.setBufferSize(fd, 1 << 20);
      expect(n.getBufferSize(fd)).toBe(1 << 20);
      expect(() => n.getpeername(fd)).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'getpeername' }));
    } finally {
      n.close(fd);
    }
  });

  it('bind to a foreign CID fails with EADDRNOTAVAIL from the kernel', () => {
    const n = native();
    const fd = n.socket();
    try {
      expect(() => n.bind(fd, FOREIGN_CID, 5000)).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL', errno: 99, syscall: 'bind' }));
    } finally {
      n.close(fd);
    }
  });

  it('VsockServer.listen on a foreign CID emits a typed EADDRNOTAVAIL naming the bindable CIDs', async () => {
    const server = createVsockServer();
    const err = await new Promise<Error>((resolve) => {
      server.once('error', resolve);
      server.once('listening', () => resolve(new Error('must not listen')));
      server.listen(5000, FOREIGN_CID);
    });
    expect(err).toBeInstanceOf(VsockAddressNotAvailableError);
    expect(err).toBeInstanceOf(VsockError);
    const e = err as VsockAddressNotAvailableError;
    expect(e.code).toBe('EADDRNOTAVAIL');
    expect(e.syscall).toBe('bind');
    expect(e.address).toBe('vsock://12345:5000');
    expect(e.message).toContain('CID 12345 is not an address of this machine');
    expect(e.message).toContain('-1 (any)');
    const cid = getLocalCid();
    if (cid > 2 && cid !== 0xffffffff) expect(e.message).toContain(`${cid} (this guest's own CID)`);
    if (cid === 2) expect(e.message).toContain('2 (host');
    expect(server.listening).toBe(false);
    expect(server.address()).toBeNull();
  });

  it('listen() through the transport API rejects the same way', async () => {
    await expect(listen(`vsock://${FOREIGN_CID}:5000`)).rejects.toBeInstanceOf(VsockAddressNotAvailableError);
  });

  it('getLocalCid reads a CID', () => {
    const cid = getLocalCid();
    expect(Number.isInteger(cid)).toBe(true);
    expect(cid).toBeGreaterThanOrEqual(0);
  });

  it('invalid arguments throw TypeErrors with code EINVAL from the addon', () => {
    const n = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => n.bind!('x', 1, 1)).toThrow(TypeError);
    expect(() => n.bind!(-1, 1, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => n.bind!(1.5, 1, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => n.bind!(3, 2 ** 32, 1)).toThrow(/cid must be/);
    expect(() => n.bind!(3, 1, -2)).toThrow(/port must be/);
    expect(() => n.listen!(3, -1)).toThrow(/backlog/);
    expect(() => n.shutdown!(3, 7)).toThrow(/how must be/);
    expect(() => n.setBufferSize!(3, -1)).toThrow(/size/);
    expect(() => n.watchAccept!(3, 'not a function')).toThrow(/callback/);
    expect(() => n.connect!(3, 1, 1, null)).toThrow(/callback/); // rejected before connect()
    expect(() => n.watchClose!({})).toThrow(/expected a watch/);
    expect(() => n.close!(987654)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => n.getsockname!(987654)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('connectVsock rejects invalid targets before any syscall', async () => {
    for (const [cid, port] of [
      [-1, 5],
      [0xffffffff, 5],
      [1.5, 5],
      [3, -1],
      [3, 0xffffffff],
      ['3', 5],
    ] as const) {
      await expect(connectVsock({ cid: cid as number, port })).rejects.toBeInstanceOf(VsockInvalidArgumentError);
    }
    await expect(connectVsock({ cid: 3, port: 5, timeoutMs: -1 })).rejects.toBeInstanceOf(VsockInvalidArgumentError);
  });

  it('connectVsock honours an already-aborted signal without connecting', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const p = connectVsock({ cid: 3, port: 5, signal: ac.signal });
    await expect(p).rejects.toBeInstanceOf(VsockAbortError);
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(dial('vsock://3:5', { signal: ac.signal })).rejects.toBeInstanceOf(VsockAbortError);
  });

  it('VsockServer rejects bad listen arguments and double close', async () => {
    const server = new VsockServer();
    const err = await new Promise<Error>((resolve) => {
      server.once('error', resolve);
      server.listen(1.5);
    });
    expect(err).toBeInstanceOf(VsockInvalidArgumentError);
    const closeErr = await new Promise<Error | undefined>((resolve) => server.close(resolve));
    expect(closeErr).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
  });

  it('dial/listen reject malformed addresses with AddressError', async () => {
    await expect(dial('vsock://nope:1')).rejects.toBeInstanceOf(AddressError);
    await expect(listen('vsock://1')).rejects.toBeInstanceOf(AddressError);
  });
});

describe('errno guidance', () => {
  it('EAFNOSUPPORT and ENODEV name the kernel modules to load', () => {
    for (const code of ['EAFNOSUPPORT', 'ENODEV']) {
      const e = toVsockError({ code, errno: 97, syscall: 'socket' }, { op: 'socket' });
      expect(e.name).toBe('VsockUnsupportedError');
      expect(e.message).toMatch(/vmw_vsock_virtio_transport/);
      expect(e.message).toMatch(/vhost_vsock/);
      expect(e.message).toMatch(/modprobe vsock /);
    }
  });

  it('ECONNRESET / ECONNREFUSED say no one listens on that CID and port', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED']) {
      const e = toVsockError({ code, errno: 104 }, { op: 'connect', address: 'vsock://1:9', cid: 1 });
      expect(e.name).toBe('VsockConnectionRefusedError');
      expect(e.message).toContain('connect vsock://1:9 failed');
      expect(e.message).toMatch(/no one listens on that CID and port/);
    }
  });

  it('ETIMEDOUT becomes VsockTimeoutError', () => {
    const e = toVsockError({ code: 'ETIMEDOUT', errno: 110 }, { op: 'connect', address: 'vsock://7:9' });
    expect(e.name).toBe('VsockTimeoutError');
    expect(e.errno).toBe(110);
    expect(e.message).toMatch(/did not answer in time/);
  });
});
