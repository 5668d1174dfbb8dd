/**
 * The HELLO handshake (PROTOCOL.md §5): building and sending our HELLO, the deadline for the
 * peer's, checking theirs against our registry ({@link compareHello}), and the errors of a peer
 * that does not follow it. The Connection moves to 'open' once {@link Handshake.accept} says yes.
 */
import {
  ControlType,
  DEFAULT_INLINE_LIMIT,
  DEFAULT_MAX_STREAMS,
  DEFAULT_STREAM_WINDOW,
  FEATURE_BULK,
  FEATURE_STREAMS,
  Kind,
  PROTOCOL_VERSION,
  ProtocolError,
  VsockRpcError,
  decodeHello,
  encodeHello,
  type Hello,
  type Registry,
} from '@vsock-rpc/wire';
import { formatAddress } from '@vsock-rpc/vsock';
import type { ConnectionCore } from './connection-core.js';
import { HelloMismatchError } from './errors.js';

/** The features a connection announces unless told otherwise (PROTOCOL.md §5). */
export const DEFAULT_FEATURES: readonly string[] = ['clock', 'keepalive', FEATURE_STREAMS, FEATURE_BULK];

/** Whether BODY frames are on (PROTOCOL.md §12): both HELLOs list "bulk". */
export function bulkNegotiated(ours: readonly string[] | undefined, theirs: Hello): boolean {
  return (ours ?? DEFAULT_FEATURES).includes(FEATURE_BULK) && (theirs.features ?? []).includes(FEATURE_BULK);
}

/** Until the peer's HELLO is accepted only a frame of this size is acceptable (PROTOCOL.md §2). */
export const HELLO_MAX = 65536;

/** Our half of the handshake, and the deadline for theirs. */
export class Handshake {
  readonly #core: ConnectionCore;
  readonly #timer: NodeJS.Timeout;

  /** Arms the handshake deadline and sends our HELLO, announcing `maxFrame`. */
  constructor(core: ConnectionCore, maxFrame: number) {
    this.#core = core;
    const options = core.options;
    this.#timer = setTimeout(() => {
      core.goawayAndFail(
        'HANDSHAKE_TIMEOUT',
        new VsockRpcError(
          'HANDSHAKE_TIMEOUT',
          `no HELLO from ${formatAddress(options.peerInfo.address)} within ${((options.handshakeTimeoutMs ?? 10000) / 1000).toFixed(1)} s: the peer is slow or is not a vsock-rpc endpoint (raise timeoutScale${options.timeoutScale !== undefined ? `, now ${options.timeoutScale},` : ''} for slow guests; envtest: --timeout-scale)`,
        ),
      );
    }, options.handshakeTimeoutMs ?? 10000);
    this.#timer.unref?.();
    const reg = options.registry;
    const hello: Hello = {
      version: PROTOCOL_VERSION,
      fingerprint: reg.fingerprint,
      name: options.name ?? defaultName(),
      maxFrame,
      inlineLimit: options.inlineLimit ?? DEFAULT_INLINE_LIMIT,
      types: reg.summary.map((s) => [s.id, s.name, s.kind === 'message' ? 'm' : s.kind === 'stream' ? 's' : 'r', s.hash] as [number, string, string, string]),
      features: [...(options.features ?? DEFAULT_FEATURES)],
    };
    // The stream limits (PROTOCOL.md §11), only when we offer streams.
    if (hello.features!.includes(FEATURE_STREAMS)) {
      hello.streamWindow = options.streamWindow ?? DEFAULT_STREAM_WINDOW;
      hello.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    }
    core.writer.writeUrgent(Kind.CONTROL, ControlType.HELLO, 0, encodeHello(hello));
  }

  /**
   * Checks the peer's HELLO: returns it when it matches ours (and stops the deadline); otherwise
   * fails the connection with HELLO_MISMATCH and returns undefined.
   */
  accept(payload: Buffer): Hello | undefined {
    const hello = decodeHello(payload);
    const differences = compareHello(hello, this.#core.options.registry);
    if (differences.length > 0) {
      const message = `HELLO mismatch with ${hello.name || 'peer'} at ${formatAddress(this.#core.options.peerInfo.address)}: ${differences.join('; ')}. Both ends must run the same protocol version and the same registry.`;
      this.#core.goawayAndFail('HELLO_MISMATCH', new HelloMismatchError(message, differences));
      return undefined;
    }
    clearTimeout(this.#timer);
    return hello;
  }

  /** Stops the deadline (teardown). */
  stop(): void {
    clearTimeout(this.#timer);
  }
}

/** Lists what differs between a peer's HELLO and our registry; empty when they match. */
export function compareHello(hello: Hello, registry: Registry): string[] {
  const out: string[] = [];
  if (hello.version !== PROTOCOL_VERSION) out.push(`protocol version ${hello.version} vs ours ${PROTOCOL_VERSION}`);
  if (hello.fingerprint === registry.fingerprint) return out;
  const theirs = new Map(hello.types.map(([id, name, kind, hash]) => [id, { name, kind, hash }]));
  const ours = new Map(registry.summary.map((s) => [s.id, s]));
  for (const [id, o] of ours) {
    const t = theirs.get(id);
    if (!t) out.push(`'${o.name}' (id ${id}) is missing on the peer`);
    else if (t.name !== o.name) out.push(`id ${id} is '${o.name}' here but '${t.name}' on the peer`);
    else if (t.hash !== o.hash) out.push(`'${o.name}' (id ${id}) has a different schema on the peer`);
  }
  for (const [id, t] of theirs) if (!ours.has(id)) out.push(`'${t.name}' (id ${id}) exists only on the peer`);
  if (out.length === 0) out.push(`registry fingerprint ${hello.fingerprint} vs ours ${registry.fingerprint}`);
  return out;
}

/** A frame other than HELLO (or GOAWAY) arrived before the handshake finished. */
export class ProtocolErrorBeforeHello extends ProtocolError {
  constructor(kind: number, type: number, what?: string) {
    super(
      'PROTOCOL_ERROR',
      `${what ?? `a frame of kind ${kind}, type 0x${type.toString(16)}`} arrived where HELLO was expected: the peer does not follow the handshake of PROTOCOL.md §5`,
    );
  }
}

/** The first frame announced more than a HELLO may be. */
export function helloTooLarge(address: string, length: number): ProtocolError {
  // Before HELLO the limit is the protocol's fixed HELLO_MAX, not a maxFrame anyone can raise.
  return new ProtocolError(
    'FRAME_TOO_LARGE',
    `the first frame from ${address} announces ${length} bytes, above the ${HELLO_MAX}-byte limit of a HELLO (PROTOCOL.md §2): the peer is not a vsock-rpc endpoint, or sent another frame before its HELLO`,
  );
}

function defaultName(): string {
  return process.env.HOSTNAME ?? `pid-${process.pid}`;
}
