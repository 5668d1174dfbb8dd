/**
 * Received events: decoding and validating each, handing it to its handlers (called directly,
 * in order) or, when it has none, to the inbox for recv() and iterators. An invalid event is
 * dropped and counted, not fatal: the frame boundary is intact. Handlers that return a promise
 * are tracked for flow control: past `maxPendingHandlers` reading pauses ('handlers') until half
 * of them are done. A handler that throws is the application's bug, not the peer's.
 */
import type { Codec, Frame, VsockRpcError } from '@vsock-rpc/wire';
import type { ConnectionCore } from './connection-core.js';
import { afterPeerGoaway } from './control-lane.js';
import type { Router } from './router.js';

/** The event side of one connection's receive path. */
export class EventDispatch {
  readonly #core: ConnectionCore;
  readonly #codec: Codec;
  readonly #router: Router;
  readonly #maxPendingHandlers: number;
  readonly #reportInvalid: (err: unknown) => void;
  #pendingHandlers = 0;
  #eventsIn = 0;
  #eventsInvalid = 0;

  /** `reportInvalid` is told of each dropped event (the Connection's 'eventError'). */
  constructor(core: ConnectionCore, router: Router, reportInvalid: (err: unknown) => void) {
    this.#core = core;
    this.#codec = core.codec;
    this.#router = router;
    this.#maxPendingHandlers = core.options.maxPendingHandlers ?? 1024;
    this.#reportInvalid = reportInvalid;
  }

  /** Events received and decoded. */
  get eventsIn(): number {
    return this.#eventsIn;
  }

  /** Events dropped because they did not decode or validate. */
  get eventsInvalid(): number {
    return this.#eventsInvalid;
  }

  /** One EVENT frame (its type is known: the decoder checked). @throws ProtocolError after the peer's GOAWAY. */
  onEvent(f: Frame): void {
    const core = this.#core;
    if (core.goawayReceived) throw afterPeerGoaway('an EVENT', f.type);
    const entry = this.#codec.registry.messageById(f.type)!;
    let value: unknown;
    try {
      value = this.#codec.decodeMessageAt(entry, f.source, f.start, f.end, f.owned, f.body);
    } catch (err) {
      // The frame boundary is intact: drop this event, count it, keep the connection.
      this.#eventsInvalid++;
      core.metrics?.error((err as VsockRpcError).code ?? 'DECODE_ERROR');
      // Logged (once per kind) whether or not anyone listens: the engines always forward
      // 'eventError', so making the line depend on listeners meant it was never written.
      core.warnOnce(
        (err as VsockRpcError).code ?? 'DECODE_ERROR',
        `dropped an invalid '${entry.name}' event from ${core.describePeer()}: ${(err as Error).message}`,
      );
      this.#reportInvalid(err);
      return;
    }
    this.#eventsIn++;
    const peer = core.peer!;
    const handlers = this.#router.eventHandlers(f.type);
    const any = this.#router.anyHandlers;
    if ((!handlers || handlers.length === 0) && any.length === 0) {
      core.options.inbox.put({ type: entry.name, value, peer });
      return;
    }
    // Handlers are called directly (no closure per event: this runs once per received event).
    if (handlers) {
      for (const h of handlers) {
        let result: unknown;
        try {
          result = h(value, peer);
        } catch (err) {
          this.#handlerThrew(entry.name, err);
          continue;
        }
        if (result instanceof Promise) this.#trackHandler(result, entry.name);
      }
    }
    for (const h of any) {
      let result: unknown;
      try {
        result = h(entry.name, value, peer);
      } catch (err) {
        this.#handlerThrew(entry.name, err);
        continue;
      }
      if (result instanceof Promise) this.#trackHandler(result, entry.name);
    }
  }

  /** A throwing handler is the application's bug, not the peer's: log it, keep the connection. */
  #handlerThrew(type: string, err: unknown): void {
    this.#core.metrics?.error('HANDLER_ERROR');
    this.#core.warnOnce('EVENT_HANDLER', `handler of '${type}' threw: ${(err as Error)?.message ?? String(err)}`);
  }

  /** Counts a handler's pending promise for flow control (reading pauses past maxPendingHandlers). */
  #trackHandler(result: Promise<unknown>, type: string): void {
    this.#pendingHandlers++;
    if (this.#pendingHandlers >= this.#maxPendingHandlers) this.#core.pause('handlers');
    result.then(
      () => this.#handlerDone(),
      (err: unknown) => {
        this.#handlerDone();
        this.#core.metrics?.error('HANDLER_ERROR');
        this.#core.warnOnce('EVENT_HANDLER', `handler of '${type}' failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  }

  #handlerDone(): void {
    this.#pendingHandlers--;
    if (this.#pendingHandlers < this.#maxPendingHandlers / 2) this.#core.resume('handlers');
  }
}
