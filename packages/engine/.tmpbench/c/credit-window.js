/**
 * Credit of one stream in one direction (PROTOCOL.md §11, "Credit"): how many payload bytes
 * the sender may still send before the receiver grants more. The same arithmetic serves both
 * ends: the sender spends and is granted; the receiver charges what arrives (a frame beyond the
 * credit is the peer's FLOW_CONTROL violation) and decides when to give consumed bytes back.
 */
/** Credit above this is a protocol error (the u32 the spec bounds it by). */
export const MAX_CREDIT = 0xffffffff;
/** The sender's view: what it may still send. */
export class SendCredit {
    #credit;
    constructor(initial) {
        this.#credit = initial;
    }
    get available() {
        return this.#credit;
    }
    /** Whether a frame of `bytes` payload may leave now (empty frames always may). */
    admits(bytes) {
        return bytes <= this.#credit;
    }
    spend(bytes) {
        this.#credit -= bytes;
    }
    /** Adds a WINDOW increment; false if the credit would pass {@link MAX_CREDIT} (the peer's violation). */
    grant(increment) {
        if (this.#credit + increment > MAX_CREDIT)
            return false;
        this.#credit += increment;
        return true;
    }
}
/** The receiver's view: what it has granted and not yet received, and what it owes back. */
export class ReceiveCredit {
    #window;
    #granted;
    #consumed = 0;
    /** `window` is what this side announced in its HELLO (the credit at the opening). */
    constructor(window) {
        this.#window = window;
        this.#granted = window;
    }
    /** Charges an arriving frame of `bytes`; false when it exceeds the credit granted (FLOW_CONTROL). */
    charge(bytes) {
        if (bytes > this.#granted)
            return false;
        this.#granted -= bytes;
        return true;
    }
    /**
     * The application consumed `bytes`: returns the increment to grant back now, or 0 while less
     * than a quarter of the window is owed (one WINDOW per quarter, not one per message).
     */
    consume(bytes) {
        this.#consumed += bytes;
        if (this.#consumed < this.#window / 4)
            return 0;
        const n = this.#consumed;
        this.#consumed = 0;
        this.#granted += n;
        return n;
    }
}
//# sourceMappingURL=credit-window.js.map