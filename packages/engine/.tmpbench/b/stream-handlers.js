/**
 * The acceptor's side of a stream handler (PROTOCOL.md §11): how a registered handler is run
 * for each mode, and the context it gets. `server`: `(request, stream)`; `client`: `(requests,
 * ctx)`, whose return value is the one response; `bidi`: `(requests, stream)`. A `server` or
 * `bidi` handler may write through its context or return an (async) iterable, which is pumped
 * with `write`. Returning ends the stream, throwing resets it (an `RpcError` keeps its code,
 * anything else is INTERNAL).
 *
 * Kept apart from the channel (stream-channel.ts) because it is an adapter between the user's
 * function and the stream, not state of the stream: it uses only the channel's public side.
 */
import { RpcError } from './errors.js';
/** Runs the stream's handler with the first message (`server`) or the channel as its reader (`client`, `bidi`). */
export function runStreamHandler(channel, handler, first, peer) {
    const mode = channel.entry.mode;
    const ctx = streamContext(channel, peer);
    let result;
    try {
        result = handler(mode === 'server' ? first : channel, ctx);
    }
    catch (err) {
        handlerFailed(channel, err);
        return;
    }
    void finishHandler(channel, result).catch((err) => handlerFailed(channel, err));
}
/** What the handler returned, by mode: `client` sends the one response; `server` and `bidi` pump an iterable, then END. */
async function finishHandler(channel, result) {
    const mode = channel.entry.mode;
    if (mode === 'client') {
        const response = await result;
        if (channel.isClosed)
            return;
        await channel.end(response);
        return;
    }
    if (result !== null && typeof result === 'object' && (Symbol.asyncIterator in result || Symbol.iterator in result)) {
        for await (const value of result) {
            if (channel.isClosed)
                return;
            await channel.write(value);
        }
    }
    else
        await result;
    if (!channel.isClosed && !channel.localEnded)
        await channel.end();
}
function handlerFailed(channel, err) {
    if (channel.isClosed)
        return;
    if (err instanceof RpcError)
        channel.reset(err.code, err.message, err.details);
    else
        channel.reset('INTERNAL', `handler of stream '${channel.entry.name}' failed: ${err?.message ?? String(err)}`);
}
/** The handler's context: peer, signal, deadline, reset, and (for `server` and `bidi`) write/end. */
function streamContext(channel, peer) {
    return {
        name: peer.name,
        address: peer.address,
        transport: peer.transport,
        cid: peer.cid,
        connectionId: peer.connectionId,
        deadline: channel.deadline,
        method: channel.entry.name,
        streamId: channel.id,
        signal: channel.signal,
        reset: (code, message) => channel.reset(code, message),
        write: (value) => channel.write(value),
        end: (value) => channel.end(value),
        writable: () => channel.writable(),
    };
}
//# sourceMappingURL=stream-handlers.js.map