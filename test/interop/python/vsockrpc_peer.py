#!/usr/bin/env python3
"""A clean-room vsock-rpc v1 peer, written from PROTOCOL.md alone (Python 3 standard library).

It exists to prove the spec is sufficient: nothing here was taken from the TypeScript sources.
The registry (every schema) is read from the spec itself, PROTOCOL.md section 10, and the
fingerprint is computed from it (section 7), so a drift between the spec text and the engine
shows up as a HELLO mismatch.

Usage (each prints one JSON object per line on stdout; int64 values are decimal strings):
  vsockrpc_peer.py selftest                       encoder vs the hex dumps of section 10
  vsockrpc_peer.py scenario  SOCK [--events N] [--serve-calls K]
  vsockrpc_peer.py unhandled SOCK                 call `sum` on a server without its handler
  vsockrpc_peer.py misbehave SOCK WHAT            one protocol violation, report the GOAWAY
  vsockrpc_peer.py probe     SOCK NAME            one edge case of the spec, settled in a sentence
  vsockrpc_peer.py hello     SOCK VARIANT         a HELLO variant: accepted or refused?
  vsockrpc_peer.py linger    SOCK [--seconds S]   serve until the other side says GOAWAY
  vsockrpc_peer.py stream    SOCK [--n N] [--window W]
                                                  open `lines` (section 11's registry) and consume it with credit
Unix sockets only: this peer never opens AF_VSOCK.
"""
import argparse
import hashlib
import json
import os
import re
import socket
import struct
import sys
import time

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "PROTOCOL.md")

# §2 kinds and flags, §4 reserved control ids.
CONTROL, EVENT, REQUEST, RESPONSE, ERROR = 0, 1, 2, 3, 4
DEADLINE = 0x01
OPEN, DATA, WINDOW, RESET = 5, 6, 7, 8   # §2/§11: only where both HELLOs list "streams"
END = 0x02                               # §2/§11: OPEN and DATA only
HELLO, PING, PONG, CANCEL, GOAWAY, CLOCK_REQUEST, CLOCK_RESPONSE = range(0xFF00, 0xFF07)
VERSION = 1
MAX_FRAME = 16 * 1024 * 1024          # §2 default; announced in our HELLO
HELLO_LIMIT = 65536                   # §2: before the peer's HELLO is accepted
HEADER = struct.Struct("<IHBBI")      # §2: length u32, type u16, kind u8, flags u8, id u32


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


class I64(int):
    """A value of schema type `bigint`: always travels as int 64 / uint 64 (§3)."""


# ---------------------------------------------------------------- MessagePack, §3 subset

def mp_encode(v, out=None):
    out = bytearray() if out is None else out
    if v is None:
        out.append(0xC0)
    elif v is True or v is False:
        out.append(0xC3 if v else 0xC2)
    elif isinstance(v, I64):
        # bigint: int 64, or uint 64 above 2^63-1, "whatever their magnitude".
        out += b"\xcf" + struct.pack(">Q", v) if v > 2**63 - 1 else b"\xd3" + struct.pack(">q", v)
    elif isinstance(v, int):
        # number/integer: never int 64; beyond 32 bits they travel as float 64.
        if 0 <= v <= 0x7F: out.append(v)
        elif -32 <= v < 0: out += struct.pack(">b", v)
        elif 0 <= v <= 0xFF: out += b"\xcc" + struct.pack(">B", v)
        elif 0 <= v <= 0xFFFF: out += b"\xcd" + struct.pack(">H", v)
        elif 0 <= v <= 0xFFFFFFFF: out += b"\xce" + struct.pack(">I", v)
        elif -0x80 <= v < 0: out += b"\xd0" + struct.pack(">b", v)
        elif -0x8000 <= v < 0: out += b"\xd1" + struct.pack(">h", v)
        elif -0x80000000 <= v < 0: out += b"\xd2" + struct.pack(">i", v)
        else: out += b"\xcb" + struct.pack(">d", float(v))
    elif isinstance(v, float):
        out += b"\xcb" + struct.pack(">d", v)
    elif isinstance(v, str):
        b = v.encode("utf-8")
        n = len(b)
        if n < 32: out.append(0xA0 | n)
        elif n <= 0xFF: out += b"\xd9" + struct.pack(">B", n)
        elif n <= 0xFFFF: out += b"\xda" + struct.pack(">H", n)
        else: out += b"\xdb" + struct.pack(">I", n)
        out += b
    elif isinstance(v, (bytes, bytearray)):
        n = len(v)
        out += (b"\xc4" + struct.pack(">B", n) if n <= 0xFF else
                b"\xc5" + struct.pack(">H", n) if n <= 0xFFFF else b"\xc6" + struct.pack(">I", n))
        out += v
    elif isinstance(v, (list, tuple)):
        n = len(v)
        out += bytes([0x90 | n]) if n < 16 else (b"\xdc" + struct.pack(">H", n) if n <= 0xFFFF else b"\xdd" + struct.pack(">I", n))
        for x in v: mp_encode(x, out)
    elif isinstance(v, dict):
        n = len(v)
        out += bytes([0x80 | n]) if n < 16 else (b"\xde" + struct.pack(">H", n) if n <= 0xFFFF else b"\xdf" + struct.pack(">I", n))
        for k, x in v.items():
            mp_encode(k, out); mp_encode(x, out)
    elif isinstance(v, Raw):
        out += v.data
    else:
        raise TypeError(f"cannot encode {type(v).__name__}")
    return bytes(out)


class Raw:
    """Pre-encoded MessagePack bytes, for probes that must break the encoding rules on purpose."""
    def __init__(self, data): self.data = data


def mp_decode(buf):
    """Exactly one value filling buf (§3: no trailing bytes), else DECODE_ERROR."""
    try:
        v, pos = _dec(memoryview(buf), 0)
    except (IndexError, struct.error, UnicodeDecodeError) as e:
        raise ProtocolError("DECODE_ERROR", f"malformed MessagePack: {e}")
    if pos != len(buf):
        raise ProtocolError("DECODE_ERROR", f"{len(buf) - pos} trailing bytes")
    return v


def _dec(b, p):
    t = b[p]; p += 1
    def take(n):
        if p + n > len(b): raise IndexError("value runs past the payload")
        return bytes(b[p:p + n])
    def seq(n, p, pairs):
        if pairs:
            d = {}
            for _ in range(n):
                k, p = _dec(b, p); v, p = _dec(b, p); d[k] = v
            return d, p
        a = []
        for _ in range(n):
            v, p = _dec(b, p); a.append(v)
        return a, p
    if t <= 0x7F: return t, p
    if t >= 0xE0: return t - 0x100, p
    if 0x80 <= t <= 0x8F: return seq(t & 0x0F, p, True)
    if 0x90 <= t <= 0x9F: return seq(t & 0x0F, p, False)
    if 0xA0 <= t <= 0xBF:
        n = t & 0x1F; return take(n).decode("utf-8"), p + n
    if t == 0xC0: return None, p
    if t == 0xC2: return False, p
    if t == 0xC3: return True, p
    fixed = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xCA: ">f", 0xCB: ">d"}
    if t in fixed:
        f = struct.Struct(fixed[t]); return f.unpack(take(f.size))[0], p + f.size
    if t in (0xCF, 0xD3):  # every int 64 / uint 64 is a 64-bit integer (§3)
        return I64(struct.unpack(">Q" if t == 0xCF else ">q", take(8))[0]), p + 8
    lens = {0xD9: (">B", "str"), 0xDA: (">H", "str"), 0xDB: (">I", "str"),
            0xC4: (">B", "bin"), 0xC5: (">H", "bin"), 0xC6: (">I", "bin"),
            0xDC: (">H", "arr"), 0xDD: (">I", "arr"), 0xDE: (">H", "map"), 0xDF: (">I", "map")}
    if t in lens:
        f, what = lens[t]; s = struct.Struct(f); n = s.unpack(take(s.size))[0]; p += s.size
        if what == "str": return take(n).decode("utf-8"), p + n
        if what == "bin": return take(n), p + n
        return seq(n, p, what == "map")
    raise ProtocolError("DECODE_ERROR", f"type byte 0x{t:02x} not allowed (ext or reserved)")


# ---------------------------------------------------------------- registry, §7 and §10

def _utf16_key(s):
    return s.encode("utf-16-be")  # §7: keys sorted by UTF-16 code unit, not code point


def canonical_json(v):
    if v is None: return "null"
    if v is True: return "true"
    if v is False: return "false"
    if isinstance(v, I64): return canonical_json({"$bigint": str(int(v))})
    if isinstance(v, (bytes, bytearray)): return canonical_json({"$bytes": bytes(v).hex()})
    if isinstance(v, int): return str(v)
    if isinstance(v, float):
        # §7: numbers print as ECMAScript's Number::toString (enough for the values schemas hold).
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, str): return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)): return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, dict):
        parts = []
        for k in sorted(v, key=_utf16_key):
            x = v[k]
            if k == "required" and isinstance(x, list) and all(isinstance(s, str) for s in x):
                x = sorted(x, key=_utf16_key)  # `required` is a set: declaration order must not matter
            parts.append(json.dumps(k, ensure_ascii=False) + ":" + canonical_json(x))
        return "{" + ",".join(parts) + "}"
    raise TypeError(type(v).__name__)


def _json_hook(d):
    if set(d) == {"$bigint"}: return I64(int(d["$bigint"]))
    if set(d) == {"$bytes"}: return bytes.fromhex(d["$bytes"])
    return d


class Registry:
    def __init__(self, entries):
        self.entries = sorted(entries, key=lambda e: e["id"])
        self.canonical = canonical_json(self.entries)
        self.fingerprint = hashlib.sha256(self.canonical.encode()).hexdigest()[:32]
        self.by_id = {e["id"]: e for e in self.entries}
        self.by_name = {e["name"]: e for e in self.entries}
        # HELLO `types`: [id, name, "m"|"r", first 16 hex of SHA-256 of the entry's canonical JSON]
        letter = {"message": "m", "method": "r", "stream": "s"}  # §7: a stream method's letter is "s"
        self.types = [[e["id"], e["name"], letter[e["kind"]],
                       hashlib.sha256(canonical_json(e).encode()).hexdigest()[:16]] for e in self.entries]


def read_spec():
    with open(SPEC, encoding="utf-8") as f:
        return f.read()


def spec_registry(spec):
    m = re.search(r"```json example-registry\n(.*?)\n```", spec, re.S)
    if not m: raise SystemExit("PROTOCOL.md has no ```json example-registry block")
    text = m.group(1)
    reg = Registry(json.loads(text, object_hook=_json_hook))
    stated = re.search(r"\(fingerprint\s+`([0-9a-f]{32})`\)", spec)
    reg.spec_text = text
    reg.stated_fingerprint = stated.group(1) if stated else None
    return reg


def spec_stream_registry(spec):
    """Section 11's registry of stream methods, from its ```json stream-registry block."""
    m = re.search(r"```json stream-registry\n(.*?)\n```", spec, re.S)
    if not m: raise SystemExit("PROTOCOL.md has no ```json stream-registry block")
    reg = Registry(json.loads(m.group(1), object_hook=_json_hook))
    reg.spec_text = m.group(1)
    return reg


# ---------------------------------------------------------------- validation (the JSON Schema subset §10 uses)

def validate(s, v, path=""):
    """Return the JSON-pointer path of the first failure, or None.
    JSON Schema semantics plus TypeBox's bigint/Uint8Array, except string length: the engine counts
    UTF-16 code units (JavaScript's .length), not JSON Schema's code points (PROTOCOL.md §3; the
    `astral-length` probe checks that the engine counts that way)."""
    if "anyOf" in s:
        return None if any(validate(alt, v, path) is None for alt in s["anyOf"]) else path
    if "const" in s and v != s["const"]: return path
    t = s.get("type")
    is_int = isinstance(v, int) and not isinstance(v, (bool, I64))
    if t == "object":
        if not isinstance(v, dict): return path
        for k in s.get("required", []):
            if k not in v: return f"{path}/{k}"
        for k, sub in s.get("properties", {}).items():
            if k in v:
                r = validate(sub, v[k], f"{path}/{k}")
                if r is not None: return r
        return None
    if t == "array":
        if not isinstance(v, list) or len(v) > s.get("maxItems", len(v)) or len(v) < s.get("minItems", 0): return path
        for i, x in enumerate(v):
            r = validate(s.get("items", {}), x, f"{path}/{i}")
            if r is not None: return r
        return None
    if t == "string":
        n = len(v.encode("utf-16-le")) // 2 if isinstance(v, str) else 0
        ok = isinstance(v, str) and s.get("minLength", 0) <= n <= s.get("maxLength", n)
    elif t == "integer":
        ok = (is_int or (isinstance(v, float) and v.is_integer())) and s.get("minimum", v) <= v <= s.get("maximum", v)
    elif t == "number":
        ok = (is_int or isinstance(v, float)) and s.get("minimum", v) <= v <= s.get("maximum", v)
    elif t == "bigint":
        ok = isinstance(v, I64)
    elif t == "Uint8Array":
        ok = isinstance(v, bytes)
    elif t == "boolean":
        ok = isinstance(v, bool)
    else:
        ok = t is None
    return None if ok else path


# ---------------------------------------------------------------- frames and a connection

def frame(kind, type_, id_, payload=b"", flags=0):
    return HEADER.pack(len(payload), type_, kind, flags, id_) + payload


class Frame:
    def __init__(self, length, type_, kind, flags, id_, payload, t_recv):
        self.type, self.kind, self.flags, self.id, self.payload, self.t_recv = type_, kind, flags, id_, payload, t_recv

    def describe(self):
        d = {"kind": self.kind, "type": self.type, "id": self.id, "flags": self.flags}
        if self.kind == CONTROL and self.type == GOAWAY or self.kind == ERROR:
            d["payload"] = mp_decode(self.payload)
        return d


class Peer:
    def __init__(self, path, registry, name="python-peer"):
        self.reg, self.name = registry, name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = bytearray()
        self.peer_hello = None
        self.next_call = 1
        self.events = []          # events the other side sent us
        self.served = []          # calls the other side made to us, and our answers
        self.handlers = {"echo": lambda req: req,
                         "sum": lambda req: {"total": sum(i["data"] for i in req["items"])}}

    # -- raw I/O
    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, kind, type_, id_, payload=b"", flags=0):
        limit = self.peer_hello["maxFrame"] if self.peer_hello else MAX_FRAME
        if len(payload) > limit:
            raise ValueError(f"frame of {len(payload)} bytes exceeds the peer's maxFrame {limit}")
        self.send_raw(frame(kind, type_, id_, payload, flags))

    def read_frame(self, timeout):
        """The next frame, or None at a clean end of stream. T_recv is the clock on return from
        the recv() that completed the frame (§4: as early as we can in the receive path)."""
        end = time.monotonic() + timeout
        limit = MAX_FRAME if self.peer_hello else HELLO_LIMIT
        while True:
            if len(self.buf) >= HEADER.size:
                length, type_, kind, flags, id_ = HEADER.unpack_from(self.buf)
                if length > limit:  # checked on the header, before buffering the payload (§2)
                    raise ProtocolError("FRAME_TOO_LARGE", f"{length} > {limit}")
                if len(self.buf) >= HEADER.size + length:
                    payload = bytes(self.buf[HEADER.size:HEADER.size + length])
                    del self.buf[:HEADER.size + length]
                    return Frame(length, type_, kind, flags, id_, payload, self.t_last)
            left = end - time.monotonic()
            if left <= 0: raise TimeoutError("no frame")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except ConnectionResetError:
                data = b""
            self.t_last = time.monotonic_ns()
            if not data:
                if self.buf: raise ProtocolError("TRUNCATED_FRAME", f"{len(self.buf)} bytes of a partial frame")
                return None
            self.buf += data

    def next(self, timeout=5.0):
        """The next frame the caller should see; answers PING, CLOCK_REQUEST and REQUEST inline
        (both sides may make calls, §1) and keeps events aside."""
        while True:
            f = self.read_frame(timeout)
            if f is None or f.kind in (RESPONSE, ERROR): return f
            if f.kind == CONTROL and f.type == PING:
                self.send(CONTROL, PONG, f.id)
            elif f.kind == CONTROL and f.type == CLOCK_REQUEST:
                (t1,) = struct.unpack("<q", f.payload)
                t1p = f.t_recv
                t2p = time.monotonic_ns()
                self.send(CONTROL, CLOCK_RESPONSE, f.id, struct.pack("<qqq", t1, t1p, t2p))
            elif f.kind == REQUEST:
                self.serve(f)
            elif f.kind == EVENT:
                e = self.reg.by_id.get(f.type)
                if e is None or e["kind"] != "message":
                    raise ProtocolError("PROTOCOL_ERROR", f"event of undeclared type {f.type}")
                try:
                    v = mp_decode(f.payload)
                    if validate(e["schema"], v) is None: self.events.append((e["name"], v))
                except ProtocolError:
                    pass  # §6: a bad event is dropped, the connection lives
            else:
                return f

    def serve(self, f):
        payload, deadline = f.payload, None
        if f.flags & DEADLINE:
            (deadline,) = struct.unpack_from("<I", payload); payload = payload[4:]
        e = self.reg.by_id.get(f.type)
        handler = self.handlers.get(e["name"]) if e and e["kind"] == "method" else None
        try:
            if handler is None: raise RpcErr("UNKNOWN_METHOD", "no handler")
            try:
                req = mp_decode(payload)
            except ProtocolError as ex:
                raise RpcErr("INVALID_ARGUMENT", str(ex))
            bad = validate(e["request"], req)
            if bad is not None: raise RpcErr("INVALID_ARGUMENT", "request breaks its schema", {"path": bad})
            res = handler(req)
            if validate(e["response"], res) is not None: raise RpcErr("INTERNAL", "bad response")
            self.send(RESPONSE, f.type, f.id, mp_encode(res))
            self.served.append({"method": e["name"], "id": f.id, "deadlineMs": deadline, "request": req, "response": res})
        except RpcErr as ex:
            self.send(ERROR, f.type, f.id, mp_encode(ex.payload))
            self.served.append({"method": e["name"] if e else f.type, "id": f.id, "error": ex.payload})

    # -- handshake, §5
    def hello_payload(self, reg=None, **override):
        reg = reg or self.reg
        h = {"version": VERSION, "fingerprint": reg.fingerprint, "name": self.name, "maxFrame": MAX_FRAME,
             "inlineLimit": 4096, "types": reg.types, "features": ["clock"]}
        h.update(override)
        return mp_encode(h)

    def handshake(self, reg=None, **override):
        """Send our HELLO at once, then read theirs. Returns (hello, goaway, first_frame)."""
        self.send(CONTROL, HELLO, 0, self.hello_payload(reg, **override))
        f = self.read_frame(10.0)
        if f is None: return None, None, None
        if f.kind == CONTROL and f.type == GOAWAY: return None, mp_decode(f.payload), f
        if not (f.kind == CONTROL and f.type == HELLO and f.id == 0 and f.flags == 0):
            raise ProtocolError("PROTOCOL_ERROR", f"first frame is kind {f.kind} type {f.type:#x}, not HELLO")
        hello = mp_decode(f.payload)
        if hello.get("version") == VERSION and hello.get("fingerprint") == self.reg.fingerprint:
            self.peer_hello = hello
        return hello, None, f

    # -- calls
    def call(self, method, value, deadline_ms=None, call_id=None, timeout=5.0, check=True):
        """REQUEST, then wait for its RESPONSE/ERROR. Returns ("response"|"error"|"goaway"|"eof"|"timeout", value)."""
        e = self.reg.by_name[method] if isinstance(method, str) else None
        type_ = e["id"] if e else method
        if check and e is not None:
            bad = validate(e["request"], value)
            if bad is not None: raise ValueError(f"refusing to send a request that breaks {method} at {bad!r}")
        cid = call_id if call_id is not None else self.next_call
        self.next_call += 1
        body = mp_encode(value)
        if deadline_ms is None: self.send(REQUEST, type_, cid, body)
        else: self.send(REQUEST, type_, cid, struct.pack("<I", deadline_ms) + body, DEADLINE)
        return self.await_reply(cid, type_, e, timeout)

    def await_reply(self, cid, type_, e=None, timeout=5.0):
        end = time.monotonic() + timeout
        while True:
            try:
                f = self.next(max(0.0, end - time.monotonic()))
            except TimeoutError:
                return "timeout", None
            if f is None: return "eof", None
            if f.kind == CONTROL and f.type == GOAWAY: return "goaway", mp_decode(f.payload)
            if f.kind not in (RESPONSE, ERROR) or f.id != cid:
                continue  # §6: ignore replies we are not waiting for
            v = mp_decode(f.payload)
            if f.type != type_: raise ProtocolError("PROTOCOL_ERROR", f"reply type {f.type} for a call to {type_}")
            if f.kind == RESPONSE and e is not None:
                bad = validate(e["response"], v)
                if bad is not None: return "bad-response", {"path": bad, "value": v}
            return ("response" if f.kind == RESPONSE else "error"), v

    def goaway(self, code="SHUTDOWN", message="python peer done"):
        self.send(CONTROL, GOAWAY, 0, mp_encode({"code": code, "message": message}))

    def drain(self, timeout=3.0):
        """Read until the other side closes; returns the frames seen and whether EOF came."""
        seen = []
        try:
            while True:
                f = self.read_frame(timeout)
                if f is None: return seen, True
                seen.append(f.describe())
        except TimeoutError:
            return seen, False
        except (ConnectionResetError, BrokenPipeError):
            return seen, True


class RpcErr(Exception):
    def __init__(self, code, message, details=None):
        super().__init__(code)
        self.payload = {"code": code, "message": message}
        if details is not None: self.payload["details"] = details


# ---------------------------------------------------------------- output

def jsonable(v):
    if isinstance(v, I64): return str(int(v))
    if isinstance(v, (bytes, bytearray)): return {"$bytes": bytes(v).hex()}
    if isinstance(v, dict): return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)): return [jsonable(x) for x in v]
    return v


def emit(step, **fields):
    print(json.dumps({"step": step, **jsonable(fields)}, ensure_ascii=False), flush=True)


# ---------------------------------------------------------------- the scenario's data (the TS test mirrors it)

ALPHABET = "abcdefghijklmnopqrstuvwxyzé✓Ω-0123456789"  # all BMP: code points == UTF-16 units


def event_value(i):
    """Deterministic messageexp i: int64 timestamps spread over the whole range, str of 1..65 chars."""
    ts = (i * 0x9E3779B97F4A7C15) & (2**64 - 1)
    start = i % len(ALPHABET)
    return {"timestamp": I64(ts - 2**64 if ts >= 2**63 else ts),
            "str": (ALPHABET * 3)[start:start + 1 + i % 65]}


def handshake_step(peer):
    hello, goaway, _ = peer.handshake()
    reg = peer.reg
    ok = bool(hello) and peer.peer_hello is not None
    emit("handshake", ok=ok, goaway=goaway,
         version=hello and hello.get("version"), fingerprint=hello and hello.get("fingerprint"),
         ourFingerprint=reg.fingerprint, statedFingerprint=reg.stated_fingerprint,
         canonicalRoundTrip=reg.canonical == reg.spec_text, canonicalBytes=len(reg.canonical.encode()),
         typesMatch=bool(hello) and hello.get("types") == reg.types,
         helloKeys=sorted(hello) if hello else None,
         peerName=hello and hello.get("name"), peerMaxFrame=hello and hello.get("maxFrame"),
         peerFeatures=hello and hello.get("features"))
    if not ok: raise SystemExit(1)


def cmd_scenario(peer, n_events, serve_calls):
    handshake_step(peer)
    me = peer.reg.by_name["messageexp"]["id"]

    # Events: the first three one byte per write (the receiver must reassemble), the rest in one
    # write; one schema-breaking event in the middle must be dropped without ending the connection.
    frames = [frame(EVENT, me, 0, mp_encode(event_value(i))) for i in range(n_events)]
    bad = frame(EVENT, me, 0, mp_encode({"timestamp": I64(1), "str": "x" * 100}))
    frames.insert(n_events // 2, bad)
    for fr in frames[:3]:
        for b in fr:
            peer.send_raw(bytes([b]))
    peer.send_raw(b"".join(frames[3:]))
    big = {"str": "A" * 5000}   # above the 4096-byte inline limit: a "large" frame (§10)
    peer.send(EVENT, peer.reg.by_name["example0"]["id"], 0, mp_encode(big))
    emit("events", sent=n_events, badSent=1, largeSent=1)

    for label, value, dl in (("echo", {"timestamp": I64(-2**63), "str": "no deadline é✓"}, None),
                             ("echo-deadline", {"timestamp": I64(2**63 - 1), "str": "X"}, 250),
                             ("echo-small-int64", {"timestamp": I64(42), "str": "X"}, 250)):
        outcome, res = peer.call("echo", value, deadline_ms=dl)
        emit(label, outcome=outcome, deadlineMs=dl, request=value, response=res,
             equal=outcome == "response" and res == value,
             timestampIsInt64=isinstance(res, dict) and isinstance(res.get("timestamp"), I64))

    items = [{"data": 2147483647, "strvec": [{"str": "a"}]}, {"data": 2147483647, "strvec": []},
             {"data": 2147483647, "strvec": []}, {"data": -2147483648, "strvec": [{"str": "b"}, {"str": "c"}]},
             {"data": 7, "strvec": []}]
    outcome, res = peer.call("sum", {"items": items})
    total = res.get("total") if isinstance(res, dict) else None
    emit("sum", outcome=outcome, total=total, expected=sum(i["data"] for i in items),
         totalWireType=type(total).__name__)

    # A request that breaks its schema (str of 100 > maxLength 65): sent on purpose, unchecked.
    outcome, res = peer.call("echo", {"timestamp": I64(1), "str": "y" * 100}, check=False)
    emit("invalid-argument", outcome=outcome, error=res)

    nonce = 0xDEADBEEF
    peer.send(CONTROL, PING, nonce)
    f = peer.next(5.0)
    emit("ping", nonce=nonce, reply={"kind": f.kind, "type": f.type, "id": f.id, "payloadBytes": len(f.payload)} if f else None,
         ok=bool(f) and f.kind == CONTROL and f.type == PONG and f.id == nonce and not f.payload)

    # NTP-style exchange (§4) on CLOCK_MONOTONIC; keep the minimum-delay sample.
    samples = []
    for k in range(16):
        nonce = 0x1000 + k
        t1 = time.monotonic_ns()
        peer.send_raw(frame(CONTROL, CLOCK_REQUEST, nonce, struct.pack("<q", t1)))
        f = peer.next(5.0)
        if not (f and f.kind == CONTROL and f.type == CLOCK_RESPONSE and f.id == nonce and len(f.payload) == 24):
            emit("clock", ok=False, reply=f.describe() if f else None); break
        e1, t1p, t2p = struct.unpack("<qqq", f.payload)
        t2 = f.t_recv
        samples.append({"t1Echoed": e1 == t1, "offsetNs": ((t2 - t2p) + (t1 - t1p)) // 2,
                        "delayNs": (t2 - t1) - (t2p - t1p),
                        # one clock on both ends: the four stamps must be in causal order
                        "causal": t1 <= t1p <= t2p <= t2})
    if samples:
        best = min(samples, key=lambda s: s["delayNs"])
        emit("clock", ok=all(s["t1Echoed"] for s in samples), samples=len(samples),
             causal=all(s["causal"] for s in samples),
             offsetNs=best["offsetNs"], delayNs=best["delayNs"], errorBoundNs=best["delayNs"] // 2,
             allOffsetsNs=[s["offsetNs"] for s in samples])

    if serve_calls:
        end = time.monotonic() + 10
        while len(peer.served) < serve_calls and time.monotonic() < end:
            try:
                peer.next(max(0.0, end - time.monotonic()))
            except TimeoutError:
                break
        emit("server-calls", served=peer.served, events=[{"type": n, "value": v} for n, v in peer.events])

    # Graceful close: GOAWAY SHUTDOWN, stop writing, read until the server closes.
    peer.goaway()
    peer.sock.shutdown(socket.SHUT_WR)
    seen, eof = peer.drain()
    emit("close", sentGoaway=True, received=seen, eof=eof)


def cmd_unhandled(peer):
    handshake_step(peer)
    outcome, res = peer.call("sum", {"items": [{"data": 1, "strvec": []}]})
    emit("unhandled", outcome=outcome, error=res)
    outcome, res = peer.call("echo", {"timestamp": I64(5), "str": "still alive"})
    emit("after-unhandled", outcome=outcome, response=res)
    peer.goaway(); peer.sock.shutdown(socket.SHUT_WR); peer.drain()


def mutated_registry(reg):
    """The same registry with messageexp's str allowed one more character: another fingerprint."""
    entries = json.loads(reg.spec_text, object_hook=_json_hook)
    for e in entries:
        if e["name"] == "messageexp": e["schema"]["properties"]["str"]["maxLength"] = 66
    return Registry(entries)


def cmd_misbehave(peer, what):
    first = None
    if what == "bad-hello":
        other = mutated_registry(peer.reg)
        hello, goaway, first = peer.handshake(reg=other)
    elif what == "bad-version":
        hello, goaway, first = peer.handshake(version=2)
    elif what == "before-hello":
        peer.send(CONTROL, PING, 1)  # a frame other than HELLO first
    elif what == "oversized-hello":  # §2: before HELLO is accepted, at most 65 536 bytes
        peer.send_raw(HEADER.pack(65537, HELLO, CONTROL, 0, 0))
    else:
        hello, goaway, first = peer.handshake()
        if peer.peer_hello is None: raise SystemExit("handshake failed")
        echo = peer.reg.by_name["echo"]["id"]
        body = mp_encode({"timestamp": I64(1), "str": "x"})
        if what == "bad-kind": peer.send_raw(frame(7, echo, 1, body))
        elif what == "bad-flags": peer.send_raw(frame(REQUEST, echo, 1, body, flags=0x02))
        elif what == "deadline-on-event": peer.send_raw(frame(EVENT, 4, 0, b"\0\0\0\0" + body, flags=DEADLINE))
        elif what == "unknown-event": peer.send_raw(frame(EVENT, 999, 0, body))
        elif what == "unknown-control": peer.send_raw(frame(CONTROL, 0xFF7F, 0))
        elif what == "bad-clock-payload": peer.send_raw(frame(CONTROL, CLOCK_REQUEST, 9, b"\1\2\3"))
        elif what == "call-id-zero": peer.send_raw(frame(REQUEST, echo, 0, body))  # §2: call id ≠ 0
        elif what == "truncated":  # a header and half its payload, then end of stream (write side)
            fr = frame(REQUEST, echo, 1, body)
            peer.send_raw(fr[:len(fr) - 5]); peer.sock.shutdown(socket.SHUT_WR)
        elif what == "oversized":  # only the header: the receiver must refuse it before the payload
            peer.send_raw(HEADER.pack(peer.peer_hello["maxFrame"] + 1, echo, REQUEST, 0, 1))
        else: raise SystemExit(f"unknown misbehaviour {what}")
    seen, eof = peer.drain(5.0)
    goaways = [f["payload"] for f in seen if f["kind"] == CONTROL and f["type"] == GOAWAY]
    emit("misbehave", what=what, firstFrameType=first and first.type,
         goaway=goaways[0] if goaways else None, received=seen, eof=eof)


def cmd_probe(peer, name):
    """Edge cases the spec settles in a sentence (§3, §6): report what the engine does."""
    handshake_step(peer)
    ts = I64(42)
    if name == "bigint-as-fixint":      # §3 says int 64 "whatever their magnitude": is 42 as fixint refused?
        r = peer.call("echo", {"timestamp": Raw(b"\x2a"), "str": "x"}, check=False)
    elif name == "uint64":              # §3: above 2^63-1 a bigint travels as uint 64
        r = peer.call("echo", {"timestamp": I64(2**64 - 1), "str": "x"})
    elif name == "astral-length":       # 33 code points, 66 UTF-16 units: maxLength 65 counts which?
        r = peer.call("echo", {"timestamp": ts, "str": "\U0001F600" * 33}, check=False)
    elif name == "extra-property":      # JSON Schema allows unknown properties unless told otherwise
        r = peer.call("echo", {"timestamp": ts, "str": "x", "extra": 1})
    elif name == "integer-as-float64":  # §3 allows float 64 for `integer`
        r = peer.call("sum", {"items": [{"data": 2.0, "strvec": []}]})
    elif name == "fractional-integer":
        r = peer.call("sum", {"items": [{"data": 2.5, "strvec": []}]}, check=False)
    elif name == "integer-as-int64":    # §3: MUST NOT; what does the receiver do?
        r = peer.call("sum", {"items": [{"data": I64(3), "strvec": []}]}, check=False)
    elif name == "nil-optional":        # §3: an absent optional property is omitted, never nil.
        # example2.ptr is optional: events with ptr nil / absent / 1.5; the test sees which arrive.
        e2 = peer.reg.by_name["example2"]["id"]
        for data, extra in ((1, {"ptr": None}), (2, {}), (3, {"ptr": 1.5})):
            peer.send(EVENT, e2, 0, mp_encode({"data": data, "strvec": [], **extra}))
        r = peer.call("echo", {"timestamp": ts, "str": "sync"})  # ordered after the events
    elif name == "goaway-in-flight":    # §4: after OUR GOAWAY, is our call in flight still answered?
        e = peer.reg.by_name["echo"]
        peer.send(REQUEST, e["id"], 9, mp_encode({"timestamp": ts, "str": "slow"}))
        time.sleep(0.1)
        peer.goaway()
        r = peer.await_reply(9, e["id"], e, timeout=3.0)
        emit("probe", name=name, outcome=r[0], value=r[1])
        return
    elif name == "deadline-exceeded":   # the handler is slow ("slow" → the test's handler waits 1 s)
        r = peer.call("echo", {"timestamp": ts, "str": "slow"}, deadline_ms=50, timeout=3.0)
    elif name == "cancel":
        peer.send(REQUEST, peer.reg.by_name["echo"]["id"], 77, mp_encode({"timestamp": ts, "str": "slow"}))
        time.sleep(0.1)
        peer.send(CONTROL, CANCEL, 77)
        r = peer.await_reply(77, peer.reg.by_name["echo"]["id"], timeout=2.0)
    elif name == "unregistered-method": # a REQUEST whose method id the registry does not declare
        r = peer.call(0x1234, {"timestamp": ts, "str": "x"})
    elif name == "message-id-as-method":  # a REQUEST whose type is a message id
        r = peer.call(4, {"timestamp": ts, "str": "x"})
    elif name == "trailing-bytes":      # §3: the value fills the payload
        e = peer.reg.by_name["echo"]
        peer.send(REQUEST, e["id"], 5, mp_encode({"timestamp": ts, "str": "x"}) + b"\xc0")
        r = peer.await_reply(5, e["id"], e)
    else:
        raise SystemExit(f"unknown probe {name}")
    outcome, value = r
    alive = None
    if outcome in ("response", "error", "timeout"):
        o2, v2 = peer.call("echo", {"timestamp": I64(7), "str": "alive?"}, timeout=3.0)
        alive = o2 == "response"
    emit("probe", name=name, outcome=outcome, value=value, aliveAfter=alive,
         timestampIsInt64=isinstance(value, dict) and isinstance(value.get("timestamp"), I64))
    if outcome not in ("goaway", "eof"):
        try:
            peer.goaway(); peer.sock.shutdown(socket.SHUT_WR); peer.drain()
        except OSError:
            pass


def cmd_hello(peer, variant):
    """HELLO variants the spec does not settle (which keys are required, limits): accepted or not?"""
    full = mp_decode(peer.hello_payload())
    variants = {
        "minimal": {k: full[k] for k in ("version", "fingerprint")},
        "no-features": {k: v for k, v in full.items() if k != "features"},
        "no-name": {k: v for k, v in full.items() if k != "name"},
        "empty-types": {**full, "types": []},           # §5: acceptance is version + fingerprint only
        "unknown-key": {**full, "future": {"a": 1}},     # §5: unknown keys MUST be ignored
        "long-name": {**full, "name": "n" * 300},        # §5: name ≤ 256
        "huge": {**full, "padding": "x" * 70000},        # §2: HELLO at most 65 536 bytes
        "no-maxFrame": {k: v for k, v in full.items() if k != "maxFrame"},
        "no-inlineLimit": {k: v for k, v in full.items() if k != "inlineLimit"},
        "no-types": {k: v for k, v in full.items() if k != "types"},
        "small-maxFrame": {**full, "maxFrame": 512},     # §2: at least 1024
        "float-maxFrame": {**full, "maxFrame": 16777216.0},  # §3 allows float 64 for integers
        "upper-fingerprint": {**full, "fingerprint": full["fingerprint"].upper()},
    }
    payload = mp_encode(variants[variant])
    peer.send_raw(frame(CONTROL, HELLO, 0, payload))
    f = peer.read_frame(10.0)
    if f and f.kind == CONTROL and f.type == HELLO:
        peer.peer_hello = mp_decode(f.payload)
    r = peer.call("echo", {"timestamp": I64(3), "str": "accepted?"}, timeout=3.0)
    emit("hello", variant=variant, payloadBytes=len(payload), outcome=r[0], value=r[1])
    if r[0] == "response":
        peer.goaway(); peer.sock.shutdown(socket.SHUT_WR); peer.drain()


def cmd_linger(peer, seconds):
    """Handshake, then serve whatever comes until the other side closes: shows its GOAWAY."""
    handshake_step(peer)
    seen, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            f = peer.next(max(0.0, end - time.monotonic()))
        except TimeoutError:
            break
        if f is None:
            seen.append("eof"); break
        seen.append(f.describe())
    emit("linger", received=seen, served=peer.served)


def cmd_selftest(reg, spec):
    """Our encoder against the hex dumps of §10, byte for byte, and the registry text round trip."""
    dumps = {m.group(1): m.group(2) for m in re.finditer(r"```hex (\S+)\n(.*?)\n```", spec, re.S)}
    def hexbytes(name):
        return bytes.fromhex(" ".join(l for l in dumps[name].splitlines() if "…" not in l))
    echo = reg.by_name["echo"]["id"]
    built = {
        "small-frame": frame(EVENT, reg.by_name["messageexp"]["id"], 0,
                             mp_encode({"timestamp": I64(1234567890123456789), "str": "HELLO"})),
        "request-frame": frame(REQUEST, echo, 7, struct.pack("<I", 250) + mp_encode({"timestamp": I64(42), "str": "X"}), DEADLINE),
        "error-frame": frame(ERROR, echo, 7, mp_encode({"code": "UNKNOWN_METHOD", "message": "no handler"})),
    }
    results = {k: v == hexbytes(k) for k, v in built.items()}
    large = frame(EVENT, reg.by_name["example0"]["id"], 0, mp_encode({"str": "A" * 5000}))
    want = hexbytes("large-frame")  # header and str 16 prefix; the dump elides the 5000 × 0x41
    results["large-frame"] = large.startswith(want) and large[len(want):] == b"A" * 5000
    ok = all(results.values())
    emit("selftest", ok=ok, frames=results, fingerprint=reg.fingerprint, statedFingerprint=reg.stated_fingerprint,
         canonicalRoundTrip=reg.canonical == reg.spec_text, canonicalBytes=len(reg.canonical.encode()), types=reg.types)
    return ok


def cmd_stream(peer, n, window):
    """§11: open `lines` as stream 1 (we dialed: odd ids) with { n }, a deadline and END, then
    consume every response, granting credit back with WINDOW as we go. Our HELLO announces a
    small streamWindow, so the other side must stop and wait for our WINDOWs."""
    hello, goaway, _ = peer.handshake(features=["clock", "streams"], streamWindow=window, maxStreams=4)
    if hello is None or peer.peer_hello is None:
        emit("stream", ok=False, reason="handshake", goaway=goaway); return
    if "streams" not in (hello.get("features") or []):
        emit("stream", ok=False, reason="the peer's HELLO lacks the streams feature"); return
    e = peer.reg.by_name["lines"]
    sid, granted, owed = 1, window, 0
    peer.send(OPEN, e["id"], sid, struct.pack("<I", 10000) + mp_encode({"n": n}), DEADLINE | END)
    items, windows, violations, end, reset = [], 0, 0, False, None
    while not end and reset is None:
        f = peer.next(10.0)
        if f is None: break
        if f.kind == CONTROL and f.type == GOAWAY:
            reset = {"goaway": mp_decode(f.payload)}; break
        if f.id != sid or f.type != e["id"]: continue
        if f.kind == RESET:
            reset = mp_decode(f.payload); break
        if f.kind != DATA: continue
        size = len(f.payload)
        if size > granted: violations += 1   # the sender ignored our window
        granted -= size
        if size > 0:
            v = mp_decode(f.payload)
            if validate(e["response"], v) is not None: violations += 1
            items.append(v)
            owed += size                     # consumed at once; give it back by quarters of the window
            if owed >= window // 4 and not f.flags & END:
                peer.send(WINDOW, e["id"], sid, struct.pack("<I", owed))
                granted += owed; owed = 0; windows += 1
        end = bool(f.flags & END)
    in_order = all(it.get("i") == i and it.get("text") == f"line {i}" for i, it in enumerate(items))
    emit("stream", ok=end and reset is None and violations == 0 and in_order and len(items) == n,
         items=len(items), inOrder=in_order, windows=windows, violations=violations, end=end, reset=reset,
         last=items[-1] if items else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("selftest")
    s = sub.add_parser("scenario"); s.add_argument("sock")
    s.add_argument("--events", type=int, default=1000); s.add_argument("--serve-calls", type=int, default=0)
    s = sub.add_parser("unhandled"); s.add_argument("sock")
    s = sub.add_parser("misbehave"); s.add_argument("sock"); s.add_argument("what")
    s = sub.add_parser("probe"); s.add_argument("sock"); s.add_argument("name")
    s = sub.add_parser("hello"); s.add_argument("sock"); s.add_argument("variant")
    s = sub.add_parser("linger"); s.add_argument("sock"); s.add_argument("--seconds", type=float, default=10)
    s = sub.add_parser("stream"); s.add_argument("sock"); s.add_argument("--n", type=int, default=500)
    s.add_argument("--window", type=int, default=1024)
    a = ap.parse_args()
    spec = read_spec()
    reg = spec_stream_registry(spec) if a.cmd == "stream" else spec_registry(spec)
    if a.cmd == "selftest":
        sys.exit(0 if cmd_selftest(reg, spec) else 1)
    peer = Peer(a.sock, reg)
    try:
        if a.cmd == "scenario": cmd_scenario(peer, a.events, a.serve_calls)
        elif a.cmd == "unhandled": cmd_unhandled(peer)
        elif a.cmd == "misbehave": cmd_misbehave(peer, a.what)
        elif a.cmd == "probe": cmd_probe(peer, a.name)
        elif a.cmd == "hello": cmd_hello(peer, a.variant)
        elif a.cmd == "linger": cmd_linger(peer, a.seconds)
        elif a.cmd == "stream": cmd_stream(peer, a.n, a.window)
    except ProtocolError as e:
        emit("protocol-error", code=e.code, message=str(e))
        sys.exit(2)
    finally:
        peer.sock.close()


if __name__ == "__main__":
    main()
