/**
 * Console exporter: the original demo's line format.
 *
 * @packageDocumentation
 */
import { escapeText } from '@vsock-rpc/wire';
import type { TraceEvent, TraceFields } from '../schema.js';
import { StreamExporter, type StreamExporterOptions } from './base.js';

/** Options of {@link ConsoleExporter}. */
export interface ConsoleExporterOptions extends Partial<StreamExporterOptions> {
  /**
   * Colour the source column, one colour per source. Default: when the output is a TTY and
   * `NO_COLOR` is not set.
   */
  color?: boolean;
}

// Bright, readable on dark and light backgrounds; red is left out so it can mean "error".
const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94] as const;

/** Longest event text printed, in UTF-16 code units (longer ends in '…'). */
const MAX_TEXT = 4096;

/**
 * Guest text is hostile until escaped: one event stays on one line (the format is
 * line-oriented, consumed by grep/awk) and no escape sequence reaches the operator's terminal.
 */
function oneLine(s: string, max = MAX_TEXT): string {
  return escapeText(s, max);
}

function formatFields(fields: TraceFields): string {
  let s = '';
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    s += ` ${oneLine(k, 256)}=${oneLine(typeof v === 'string' ? v : String(v))}`;
  }
  return s;
}

/**
 * Writes one line per event: `<host_ns> <source> <text>`, the original demo's format.
 * `<host_ns>` is `ts` in decimal; `<text>` is the event's text, or its kind when it has none,
 * followed by ` key=value` per field. Source, text and fields are escaped with `escapeText`
 * (`\n`, `\e`, `\\`, …): a guest chose them.
 *
 * Defaults to `process.stdout` (not ended on close).
 */
export class ConsoleExporter extends StreamExporter {
  readonly #color: boolean;
  readonly #colors = new Map<string, string>();

  constructor(options: ConsoleExporterOptions = {}) {
    const output = options.output ?? process.stdout;
    super({ ...options, output });
    const isTty = (this.stream as { isTTY?: boolean }).isTTY === true;
    this.#color = options.color ?? (isTty && process.env['NO_COLOR'] === undefined);
  }

  /** Format one event as a line (without the newline), uncoloured. */
  static formatLine(e: TraceEvent): string {
    return `${e.ts} ${escapeText(e.source)} ${ConsoleExporter.#body(e)}`;
  }

  static #body(e: TraceEvent): string {
    const text = oneLine(e.text !== undefined ? e.text : e.kind);
    return e.fields !== undefined ? text + formatFields(e.fields) : text;
  }

  #sourceLabel(source: string): string {
    if (!this.#color) return escapeText(source);
    let label = this.#colors.get(source);
    if (label === undefined) {
      const code = PALETTE[this.#colors.size % PALETTE.length]!;
      label = `\x1b[${code}m${escapeText(source)}\x1b[0m`;
      // Bounded: past the palette's worth of names, colours repeat anyway; forget the oldest.
      if (this.#colors.size >= 1024) this.#colors.delete(this.#colors.keys().next().value!);
      this.#colors.set(source, label);
    }
    return label;
  }

  /** {@inheritDoc TraceExporter.write} */
  write(events: readonly TraceEvent[]): boolean {
    if (events.length === 0) return !this.backedUp;
    let chunk = '';
    for (const e of events) {
      chunk += `${e.ts} ${this.#sourceLabel(e.source)} ${ConsoleExporter.#body(e)}\n`;
    }
    this.tryWrite(chunk, events.length);
    return !this.backedUp;
  }
}
