/**
 * Protocol constants of vsock-rpc. PROTOCOL.md at the repository root is the normative
 * description; every number here appears there.
 */

/** Version carried in HELLO. Peers with different versions refuse each other. */
export const PROTOCOL_VERSION = 1;

/** Bytes in a frame header: u32 length, u16 type, u8 kind, u8 flags, u32 id — little-endian. */
export const HEADER_SIZE = 12;

/** Frame kinds (header byte 6). Any other value is a protocol error. */
export const Kind = {
  /** Protocol control frame: HELLO, PING, PONG, CANCEL, GOAWAY, CLOCK_*. Type is a reserved id. */
  CONTROL: 0,
  /** One-way typed message; id is 0. */
  EVENT: 1,
  /** A call of a method; id is the caller's call id (never 0). */
  REQUEST: 2,
  /** The typed result of a call; id echoes the request's. */
  RESPONSE: 3,
  /** A failed call (id of the call); payload is ErrorPayload. Connection-level failures are GOAWAY. */
  ERROR: 4,
  /** Opens a stream (feature "streams", PROTOCOL.md §11); id is the stream id; payload: [deadline] + nothing or the first request. */
  OPEN: 5,
  /** One message of a stream, either way; empty only with END. */
  DATA: 6,
  /** Grants credit on a stream: payload is a u32 increment in bytes. */
  WINDOW: 7,
  /** Ends a stream at once in both directions; payload is ErrorPayload. */
  RESET: 8,
} as const;
/** One of the {@link Kind} values (header byte 6). */
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Human names of the kinds ('control', 'event', …), for errors and metrics: derived, never listed twice. */
export const KIND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(Kind).map(([name, value]) => [value, name.toLowerCase()]));

/** Frame flags (header byte 7). Bits not defined here must be zero. */
export const Flags = {
  /** REQUEST only: the payload starts with a u32 LE relative deadline in milliseconds. */
  DEADLINE: 0x01,
  /** OPEN and DATA only (feature "streams"): the sender's last frame of the stream in its direction. */
  END: 0x02,
  /**
   * EVENT only (feature "bulk"): the payload is a u32 LE body length B, a MessagePack
   * `[key, rest]` and then B body bytes, the binary value of property `key` (PROTOCOL.md §12).
   */
  BODY: 0x04,
} as const;
/** Every flag bit this version defines; a frame with any other bit set is rejected. */
export const KNOWN_FLAGS = Flags.DEADLINE | Flags.END;

/** The HELLO feature that brings in kinds OPEN, DATA, WINDOW, RESET and the END flag (PROTOCOL.md §11). */
export const FEATURE_STREAMS = 'streams';

/** The HELLO feature that brings in the BODY flag: a large binary field as a body behind its frame (PROTOCOL.md §12). */
export const FEATURE_BULK = 'bulk';
/**
 * A top-level binary property of at least this many bytes travels as a BODY (where both HELLOs
 * list "bulk"), written from the sender's own buffer: the sender must not modify it until it is written.
 */
export const BULK_THRESHOLD = 32 * 1024;
/** Most bytes of the MessagePack `[key, rest]` of a BODY frame (PROTOCOL.md §12). */
export const BULK_MAX_VALUE = 65_536;
/** Credit in bytes granted per stream at its opening unless HELLO says otherwise (256 KiB). */
export const DEFAULT_STREAM_WINDOW = 256 * 1024;
/** Smallest and largest `streamWindow` a HELLO may announce. */
export const MIN_STREAM_WINDOW = 1024;
export const MAX_STREAM_WINDOW = 0x7fffffff;
/** Streams a peer may have open that it opened, unless HELLO says otherwise. */
export const DEFAULT_MAX_STREAMS = 1024;
/** WINDOW payload size: u32 increment. */
export const WINDOW_SIZE = 4;

/** First TYPE_ id reserved for the protocol. Registries use 0 … 0xFEFF. */
export const RESERVED_ID_MIN = 0xff00;
/** Largest TYPE_ id (u16). */
export const MAX_TYPE_ID = 0xffff;

/** Reserved TYPE_ ids of CONTROL frames. */
export const ControlType = {
  HELLO: 0xff00,
  PING: 0xff01,
  PONG: 0xff02,
  CANCEL: 0xff03,
  GOAWAY: 0xff04,
  CLOCK_REQUEST: 0xff05,
  CLOCK_RESPONSE: 0xff06,
} as const;
/** One of the {@link ControlType} values (the `type` of a CONTROL frame). */
export type ControlType = (typeof ControlType)[keyof typeof ControlType];

/** Names of the reserved ids ('HELLO', 'PING', …), for errors and metrics: derived, never listed twice. */
export const CONTROL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(ControlType).map(([name, value]) => [value, name]));

/** Largest payload a peer accepts unless HELLO says otherwise (16 MiB). */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
/** Hard ceiling for any negotiated maximum (u32 length field aside, 1 GiB keeps allocations sane). */
export const MAX_FRAME_CEILING = 1024 * 1024 * 1024;
/** Payloads at or under this size are copied into the batch buffer behind their header. */
export const DEFAULT_INLINE_LIMIT = 4096;
/** CLOCK_REQUEST payload size: i64 T1. */
export const CLOCK_REQUEST_SIZE = 8;
/** CLOCK_RESPONSE payload size: i64 T1 (echoed), i64 T1′, i64 T2′. */
export const CLOCK_RESPONSE_SIZE = 24;
