/**
 * A raw peer written from PROTOCOL.md alone: a TCP socket bound to a chosen loopback source
 * address, our own frame codec, HELLO echoing the server's version and fingerprint (§5: the
 * server sends its HELLO first, without waiting), and helpers to see how the server ends things.
 */
import net from 'node:net';
import { Packr } from 'msgpackr';
import { Control, FrameReader, Kind, encodeFrame, type Frame } from './frame.js';

/** msgpackr for well-formed payloads: plain maps, bigint as int 64 (§3), no record extension. */
export const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export interface ServerHello {
  version: number;
  fingerprint: string;
  name: string;
  maxFrame: number;
  [k: string]: unknown;
}

/** How a connection ended, from the attacker's side. */
export interface Ending {
  /** GOAWAY code the server sent, if any. */
  goaway?: string;
  goawayMessage?: string;
  /** The server closed the stream (EOF or reset). */
  closed: boolean;
  /** The connection was still open when we stopped waiting. */
  open: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RawPeer {
  readonly frames: Frame[] = [];
  hello?: ServerHello;
  goaway?: { code: string; message: string };
  closed = false;
  error?: Error;
  private readonly reader = new FrameReader();
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: net.Socket,
    readonly t0: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) this.onFrame(f);
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects from `localAddress` (127.0.0.x) to 127.0.0.1:port. Rejects on connect failure. */
  static connect(port: number, localAddress: string, timeoutMs = 5000): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const s = net.connect({ host: '127.0.0.1', port, localAddress });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect from ${localAddress} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(new RawPeer(s, t0));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private onFrame(f: Frame): void {
    this.frames.push(f);
    if (f.kind === Kind.CONTROL && f.type === Control.HELLO && !this.hello) {
      try {
        this.hello = packr.unpack(f.payload) as ServerHello;
      } catch {
        /* a bad server HELLO shows as hello undefined */
      }
    }
    if (f.kind === Kind.CONTROL && f.type === Control.GOAWAY && !this.goaway) {
      try {
        const p = packr.unpack(f.payload) as { code?: unknown; message?: unknown };
        this.goaway = { code: String(p.code), message: String(p.message) };
      } catch {
        this.goaway = { code: '<undecodable>', message: '' };
      }
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds or the socket closed; false on timeout. */
  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.closed) return cond();
      const left = end - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  /** Waits for the server's HELLO (it sends first). */
  async serverHello(timeoutMs = 5000): Promise<ServerHello> {
    if (!(await this.until(() => this.hello !== undefined || this.goaway !== undefined, timeoutMs)) || !this.hello) {
      throw new Error(`no server HELLO (goaway ${this.goaway?.code ?? '-'}, closed ${this.closed})`);
    }
    return this.hello;
  }

  /** Our HELLO payload, echoing the server's version and fingerprint, with `overrides` on top. */
  helloPayload(name: string, overrides: Record<string, unknown> = {}): Buffer {
    const h = this.hello!;
    return packr.pack({ version: h.version, fingerprint: h.fingerprint, name, maxFrame: 16 * 1024 * 1024, inlineLimit: 4096, types: [], ...overrides });
  }

  write(buf: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(buf);
  }

  send(f: { type: number; kind: number; flags?: number; id?: number; payload?: Buffer }): boolean {
    return this.write(encodeFrame(f));
  }

  /** Full handshake: server HELLO in, ours out. */
  async handshake(name: string, timeoutMs = 5000): Promise<void> {
    await this.serverHello(timeoutMs);
    this.send({ type: Control.HELLO, kind: Kind.CONTROL, payload: this.helloPayload(name) });
  }

  /** Sends PING `nonce` and waits for its PONG: proof the connection is alive and accepted. */
  async ping(nonce: number, timeoutMs = 5000): Promise<boolean> {
    this.send({ type: Control.PING, kind: Kind.CONTROL, id: nonce });
    return this.until(() => this.frames.some((f) => f.kind === Kind.CONTROL && f.type === Control.PONG && f.id === nonce), timeoutMs);
  }

  /** Waits for the server to end the connection (GOAWAY and/or close), up to `timeoutMs`. */
  async ending(timeoutMs: number): Promise<Ending> {
    await this.until(() => this.closed, timeoutMs);
    return { goaway: this.goaway?.code, goawayMessage: this.goaway?.message, closed: this.closed, open: !this.closed };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Attacker source addresses: 127.0.0.2 … 127.0.0.9 (good peers use 127.0.0.1). */
export function attackerAddress(i: number): string {
  return `127.0.0.${2 + (Math.abs(i) % 8)}`;
}
