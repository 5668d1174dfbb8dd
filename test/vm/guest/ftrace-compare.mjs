// The comparisons of ftrace-check.mjs's ftrace-compare case (INSIDE the QEMU test guest): our
// parsed events against the kernel's own text rendering of the same buffer, and against what
// `trace-cmd report -R -t` shows of the same events recorded into trace-cmd's own instance.

export const fmtEvent = (e) =>
  `${e.comm}-${e.pid} [${String(e.cpu).padStart(3, '0')}] ${e.ts / 1_000_000_000n}.${String(e.ts % 1_000_000_000n).padStart(9, '0')}: ${e.name}: ${Object.entries(
    e.fields,
  )
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;

/** Splits trace-cmd's `name=value name=value` text using the field names we know, in order. */
function splitFields(rest, names) {
  const out = {};
  let pos = 0;
  for (let i = 0; i < names.length; i++) {
    const key = `${names[i]}=`;
    const at = rest.indexOf(key, pos);
    if (at < 0) return undefined;
    const start = at + key.length;
    const nextAt = i + 1 < names.length ? rest.indexOf(` ${names[i + 1]}=`, start) : rest.length;
    if (nextAt < 0) return undefined;
    out[names[i]] = rest.slice(start, nextAt);
    pos = nextAt;
  }
  return out;
}
export function parseReport(text) {
  const events = [];
  let unparsed = 0;
  for (const line of text.split('\n')) {
    const m = /^(?:[\w.-]+:)?\s*(.+?)-(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\w+):\s?(.*)$/.exec(line);
    if (!m) {
      if (/\[\d+\]/.test(line)) unparsed++;
      continue;
    }
    events.push({
      comm: m[1].trim(),
      pid: Number(m[2]),
      cpu: Number(m[3]),
      ts: BigInt(m[4]) * 1_000_000_000n + BigInt(m[5]),
      name: m[6],
      rest: m[7].replace(/^\s+/, ''),
    });
  }
  return { events, unparsed };
}
export function parseKernelTrace(text) {
  const events = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^\s*(.+)-(\d+)\s+\[(\d{3})\]\s+\S+\s+(\d+)\.(\d{6}): (\w+): (.*)$/.exec(line);
    if (m) events.push({ comm: m[1], pid: Number(m[2]), cpu: Number(m[3]), usec: BigInt(m[4]) * 1_000_000n + BigInt(m[5]), name: m[6], rest: m[7] });
  }
  return events;
}

/** Ours against the kernel's own text of the same buffer: same count, order, pid, comm, name, µs. */
export function compareWithKernelText(ours, kernelText) {
  const kernelMismatch = [];
  for (const cpu of new Set([...ours.map((e) => e.cpu), ...kernelText.map((e) => e.cpu)])) {
    const a = ours.filter((e) => e.cpu === cpu);
    const k = kernelText.filter((e) => e.cpu === cpu);
    if (a.length !== k.length) kernelMismatch.push(`cpu${cpu}: ${a.length} parsed vs ${k.length} in the kernel's trace`);
    for (let i = 0; i < Math.min(a.length, k.length); i++) {
      const e = a[i];
      const t = k[i];
      const ok = e.pid === t.pid && e.name === t.name && (e.ts + 500n) / 1000n === t.usec && (e.comm === t.comm || e.comm === '<...>' || t.comm === '<...>');
      if (!ok && kernelMismatch.length < 10)
        kernelMismatch.push(`cpu${cpu} #${i}: ours ${fmtEvent(e)} | kernel ${t.comm}-${t.pid} ${t.usec} ${t.name}: ${t.rest}`);
    }
  }
  return kernelMismatch;
}

/** Every trace-cmd event looked up in ours (see the pairing comments below). */
export function compareWithTraceCmd(ours, theirs) {
  const BOUND = 50_000_000n; // 50 ms: the probes run back to back, but a TCG vCPU can stall between them
  let matched = 0;
  let fieldValues = 0;
  const missing = [];
  const deltas = [];
  const commDiff = [];
  const missingContext = [];
  // trace-cmd filters out its own threads' events (once its filter is set): ours of those pids are not counted as missing from it.
  const tcPids = new Set(ours.filter((e) => e.comm === 'trace-cmd').map((e) => e.pid));
  // trace-cmd enables its events one after the other: the window is per CPU and event name.
  const window = new Map();
  for (const t of theirs) {
    const k = `${t.cpu}|${t.name}`;
    const w = window.get(k) ?? { first: t.ts, last: t.ts };
    if (t.ts < w.first) w.first = t.ts;
    if (t.ts > w.last) w.last = t.ts;
    window.set(k, w);
  }
  const inWindow = ours.filter((e) => {
    const w = window.get(`${e.cpu}|${e.name}`);
    return w !== undefined && e.ts >= w.first - BOUND && e.ts <= w.last + BOUND;
  });
  // Each instance stamps and orders its copy of an event itself (an interrupt can fall between
  // the two probes), so pair by identity: events with the same CPU, name, pid and field values
  // occur in the same order in both; merge each such list by time.
  const layout = new Map();
  for (const e of ours)
    if (!layout.has(e.name))
      layout.set(
        e.name,
        Object.entries(e.fields).map(([k, v]) => [k, typeof v === 'string' ? 's' : Array.isArray(v) ? 'a' : 'n']),
      );
  const canon = (kind, v) => (kind === 's' ? `s:${v}` : kind === 'a' ? `a:${v.join()}` : `n:${BigInt.asUintN(64, BigInt(v))}`);
  // trace-cmd -R prints ints as %d/%u/%lld, unsigned longs and pointers as 0x%llx, strings as %s, unprintable arrays as ARRAY[..].
  const canonText = (kind, t) => {
    const x = t.trim();
    if (kind === 's') return `s:${t}`;
    if (kind === 'a')
      return `a:${
        x.startsWith('ARRAY[')
          ? x
              .slice(6, -1)
              .split(', ')
              .map((h) => parseInt(h, 16))
              .join()
          : x
      }`;
    return /^(-?\d+|0x[0-9a-f]+)$/i.test(x) ? `n:${BigInt.asUintN(64, BigInt(x))}` : `?:${x}`;
  };
  const keyOurs = (e) => `${e.cpu}|${e.name}|${e.pid}|${(layout.get(e.name) ?? []).map(([k, kind]) => canon(kind, e.fields[k])).join('|')}`;
  const keyTheirs = (t) => {
    const l = layout.get(t.name);
    if (!l) return `unknown|${t.name}`;
    const f = splitFields(
      t.rest,
      l.map(([k]) => k),
    );
    return f ? `${t.cpu}|${t.name}|${t.pid}|${l.map(([k, kind]) => canonText(kind, f[k])).join('|')}` : `unparsed|${t.rest}`;
  };
  const groups = new Map();
  for (const e of inWindow) {
    const k = keyOurs(e);
    const g = groups.get(k) ?? { ours: [], theirs: [] };
    g.ours.push(e);
    groups.set(k, g);
  }
  for (const t of theirs) {
    const k = keyTheirs(t);
    const g = groups.get(k) ?? { ours: [], theirs: [] };
    g.theirs.push(t);
    groups.set(k, g);
  }
  let theirOnly = 0;
  let oursOnly = 0;
  const oursOnlySample = [];
  // Both probes run back to back on the same CPU, ours first, so within one identity the stamps
  // interleave: ours <= theirs < next ours. Merge by time; each trace-cmd event takes the latest
  // unpaired identical ours event before it (a stack also handles an interrupt that nests the
  // same event between the two probes). BOUND only guards against pairing across a loss.
  for (const g of groups.values()) {
    const stack = [];
    let i = 0;
    let j = 0;
    while (i < g.theirs.length) {
      const t = g.theirs[i];
      if (j < g.ours.length && g.ours[j].ts <= t.ts) {
        stack.push(g.ours[j++]);
        continue;
      }
      const e = stack.at(-1);
      if (e && t.ts - e.ts <= BOUND) {
        stack.pop();
        if (e.comm !== t.comm && commDiff.length < 10) commDiff.push(`${e.pid}: ours ${e.comm} trace-cmd ${t.comm}`);
        if (e.comm === t.comm) matched++;
        fieldValues += Object.keys(e.fields).length;
        deltas.push(Number(t.ts - e.ts));
      } else {
        theirOnly++;
        if (missing.length < 10) missing.push(`cpu${t.cpu} ${t.comm}-${t.pid} ${t.ts} ${t.name}: ${t.rest}`);
        if (missingContext.length < 3) {
          const near = ours.filter((x) => x.cpu === t.cpu && x.ts >= t.ts - 100_000n && x.ts <= t.ts + 100_000n);
          missingContext.push({ theirs: `${t.comm}-${t.pid} ${t.ts} ${t.name}: ${t.rest}`, oursNear: near.map(fmtEvent).slice(0, 12) });
        }
      }
      i++;
    }
    for (const e of [...stack, ...g.ours.slice(j)]) {
      if (tcPids.has(e.pid)) continue;
      oursOnly++;
      if (oursOnlySample.length < 5) oursOnlySample.push(fmtEvent(e));
    }
  }
  deltas.sort((x, y) => x - y);
  return { matched, fieldValues, missing, commDiff, missingContext, theirOnly, oursOnly, oursOnlySample, oursInTheirWindow: inWindow.length, deltas };
}
