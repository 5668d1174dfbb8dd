import { ProtocolError } from './errors.js';

/**
 * A BODY frame (PROTOCOL.md §12) whose body length does not fit its frame: longer than the
 * frame's payload after the length prefix and a value of at least one byte, or leaving a value
 * above BULK_MAX_VALUE bytes. The framing is lost: the connection must close (GOAWAY PROTOCOL_ERROR).
 */
export class BadBodyError extends ProtocolError {
  constructor(
    readonly frameLength: number,
    readonly bodyLength: number,
    detail: string,
  ) {
    super('BAD_BODY', `BODY frame of ${frameLength} bytes announces a body of ${bodyLength} bytes: ${detail}`);
  }
}
