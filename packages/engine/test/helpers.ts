/**
 * Shared helpers of the engine tests: a test registry, unix/tcp server+client pairs that are
 * closed after each test, a collecting logger, raw misbehaving peers built on node:net, and
 * polling helpers that wait for a condition instead of sleeping for a fixed time.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { formatAddress } from '@vsock-rpc/vsock';
import {
  ControlType,
  FrameDecoder,
  Kind,
  PROTOCOL_VERSION,
  decodeErrorPayload,
  defineRegistry,
  encodeFrame,
  encodeHello,
  type Frame,
  type Registry,
} from '@vsock-rpc/wire';
import { Registry as PromRegistry } from 'prom-client';
import { afterEach } from 'vitest';
import { ClientEngine, ServerEngine, type ClientEngineOptions, type Logger, type ServerEngineOptions } from '../src/index.js';

// ---- the registry of the tests ----

export const MessageExp = Type.Object({ timestamp: Type.BigInt(), str: Type.String({ minLength: 1, maxLength: 65 }) });

export const testRegistry = defineRegistry({
  messages: {
    messageexp: { id: 4, schema: MessageExp },
    seq: { id: 10, schema: Type.Object({ n: Type.Integer({ minimum: 0 }) }) },
    note: { id: 11, schema: Type.Object({ text: Type.String({ maxLength: 100 }) }) },
    blob: { id: 12, schema: Type.Object({ n: Type.Integer(), data: Type.Uint8Array() }) },
  },
  methods: {
    echo: { id: 100, request: MessageExp, response: MessageExp },
    /** Waits `ms` (or until the test releases it), answers with its tag. */
    sleep: { id: 101, request: Type.Object({ ms: Type.Integer({ minimum: 0 }), tag: Type.Integer() }), response: Type.Object({ tag: Type.Integer() }) },
    /** Throws: an RpcError with `code`, or a plain Error when code is absent. */
    fail: { id: 102, request: Type.Object({ code: Type.Optional(Type.String()), message: Type.String() }), response: Type.Object({}) },
    add: { id: 103, request: Type.Object({ a: Type.Integer(), b: Type.Integer() }), response: Type.Object({ sum: Type.Integer() }) },
    /** Declared, but no test registers a handler for it. */
    nobody: { id: 104, request: Type.Object({}), response: Type.Object({}) },
  },
});
export type TestRegistry = typeof testRegistry;

/** The same registry with one schema changed ('note' gains a field): another fingerprint. */
export const changedRegistry = defineRegistry({
  messages: {
    ...testRegistry.messages,
    note: { id: 11, schema: Type.Object({ text: Type.String({ maxLength: 100 }), extra: Type.Optional(Type.Integer()) }) },
  },
  methods: testRegistry.methods,
});

// ---- transports ----

let sockCounter = 0;
/** A fresh unix socket path in the temp dir. */
export function tmpSockPath(): string {
  return path.join(os.tmpdir(), `vsrpc-eng-${process.pid}-${randomBytes(4).toString('hex')}-${sockCounter++}.sock`);
}

export type TransportName = 'unix' | 'tcp';
export const TRANSPORTS: TransportName[] = ['unix', 'tcp'];

/** An address to listen on: a temp unix path, or tcp on an ephemeral port of 127.0.0.1. */
export function listenAddress(t: TransportName): string {
  return t === 'unix' ? `unix://${tmpSockPath()}` : 'tcp://127.0.0.1:0';
}

/** The address a client dials to reach `server` (the real port for tcp). */
export function urlOf(server: ServerEngine<Registry>): string {
  return formatAddress(server.address);
}

// ---- cleanup ----

const closers: (() => Promise<unknown> | void)[] = [];

/** Registers something to close after the current test (clients before servers: LIFO). */
export function track<T>(thing: T, close: (t: T) => Promise<unknown> | void): T {
  closers.push(() => close(thing));
  return thing;
}

/** Closes everything tracked; call from afterEach (done by {@link useCleanup}). */
export async function closeAll(): Promise<void> {
  const list = closers.splice(0).reverse();
  for (const c of list) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
}

/** Installs the afterEach hook that closes every engine and socket a test made. */
export function useCleanup(): void {
  afterEach(closeAll);
}

// ---- engines ----

/** A logger that keeps its lines. */
export interface CollectingLogger extends Logger {
  readonly lines: string[];
  matching(re: RegExp): string[];
}
export function collectingLogger(): CollectingLogger {
  const lines: string[] = [];
  return {
    lines,
    warn: (m: string) => void lines.push(m),
    info: (m: string) => void lines.push(m),
    matching: (re: RegExp) => lines.filter((l) => re.test(l)),
  };
}

export async function startServer<Reg extends Registry = TestRegistry>(
  t: TransportName | string,
  options: Partial<ServerEngineOptions<Reg>> = {},
): Promise<ServerEngine<Reg>> {
  const address = t === 'unix' || t === 'tcp' ? listenAddress(t) : t;
  const server = await ServerEngine.listen<Reg>(address, { registry: testRegistry as unknown as Reg, name: 'test-server', logger: null, ...options });
  return track(server, (s) => s.close(500));
}

export async function connectClient<Reg extends Registry = TestRegistry>(
  url: string,
  options: Partial<ClientEngineOptions<Reg>> = {},
): Promise<ClientEngine<Reg>> {
  const client = await ClientEngine.connect<Reg>(url, { registry: testRegistry as unknown as Reg, name: 'test-client', logger: null, ...options });
  return track(client, (c) => c.close(500));
}

/** A server and a client connected to it, with the server's view of the peer ready. */
export async function startPair(
  t: TransportName,
  serverOptions: Partial<ServerEngineOptions<TestRegistry>> = {},
  clientOptions: Partial<ClientEngineOptions<TestRegistry>> = {},
): Promise<{ server: ServerEngine<TestRegistry>; client: ClientEngine<TestRegistry>; url: string }> {
  const server = await startServer(t, serverOptions);
  const url = urlOf(server);
  const client = await connectClient(url, clientOptions);
  await waitFor(() => server.peers().length === 1, 'the server to see the client');
  return { server, client, url };
}

// ---- waiting ----

/** Polls `cond` until it holds; fails after `timeoutMs` (generous: the machine is shared). */
export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with what `p` rejects with; fails if it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// ---- prom-client ----

export function promRegistry(): PromRegistry {
  return new PromRegistry();
}

/** The value of the first sample of `metric` whose labels include every one of `labels`. */
export async function metricValue(reg: PromRegistry, metric: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await reg.metrics();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

// ---- raw peers ----

/** The HELLO payload a correct peer of `registry` sends. */
export function helloPayload(registry: Registry, overrides: Record<string, unknown> = {}): Buffer {
  return encodeHello({
    version: PROTOCOL_VERSION,
    fingerprint: registry.fingerprint,
    name: 'raw-peer',
    maxFrame: 16 * 1024 * 1024,
    inlineLimit: 4096,
    types: registry.summary.map((s) => [s.id, s.name, s.kind === 'message' ? 'm' : 'r', s.hash] as [number, string, string, string]),
    features: [],
    ...overrides,
  } as Parameters<typeof encodeHello>[0]);
}

export function helloFrame(registry: Registry = testRegistry, overrides: Record<string, unknown> = {}): Buffer {
  return encodeFrame(Kind.CONTROL, ControlType.HELLO, 0, helloPayload(registry, overrides));
}

/** A node:net socket that speaks (or breaks) the protocol by hand, decoding what it receives. */
export interface RawPeer {
  readonly socket: net.Socket;
  readonly frames: Frame[];
  readonly ended: Promise<void>;
  write(b: Buffer): void;
  /** Waits for a frame matching `pred` (received so far or later). */
  frame(pred: (f: Frame) => boolean, what?: string): Promise<Frame>;
  /** The code of the GOAWAY received, once it came. */
  goaway(): Promise<string>;
}

export async function rawConnect(url: string): Promise<RawPeer> {
  const socket = url.startsWith('unix://') ? net.connect({ path: url.slice('unix://'.length) }) : net.connect(toHostPort(url));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return rawPeerOf(socket);
}

export function rawPeerOf(socket: net.Socket): RawPeer {
  track(socket, (s) => void s.destroy());
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((f) => frames.push({ ...f, payload: Buffer.from(f.payload) }), { maxFrame: 64 * 1024 * 1024 });
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch {
      /* a raw peer tolerates anything */
    }
  });
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const frame = async (pred: (f: Frame) => boolean, what = 'a frame') => {
    let found: Frame | undefined;
    await waitFor(() => (found = frames.find(pred)) !== undefined, what);
    return found!;
  };
  return {
    socket,
    frames,
    ended,
    write: (b) => void socket.write(b),
    frame,
    goaway: async () => decodeErrorPayload((await frame((f) => f.kind === Kind.CONTROL && f.type === ControlType.GOAWAY, 'GOAWAY')).payload).code,
  };
}

function toHostPort(url: string): { host: string; port: number } {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(url);
  if (!m) throw new Error(`not a tcp url: ${url}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** A raw listener on a temp unix path: hands each accepted socket to `onSocket`. */
export async function rawServer(onSocket: (peer: RawPeer) => void): Promise<string> {
  const p = tmpSockPath();
  const server = net.createServer((s) => onSocket(rawPeerOf(s)));
  await new Promise<void>((resolve) => server.listen(p, resolve));
  track(server, (s) => new Promise<void>((r) => s.close(() => r())));
  return `unix://${p}`;
}
