/**
 * Command-line parsing for the envtest commands: node:util parseArgs with a help text per
 * command, and value checks that say what was wrong.
 */
import { parseArgs } from 'node:util';
import { parseAddress, type TransportAddress } from '@vsock-rpc/vsock';
import { EnvtestError } from './errors.js';

/** A mistake on the command line (code `ERR_USAGE`): the CLI prints the message and exits with code 2. */
export class UsageError extends EnvtestError {
  constructor(
    message: string,
    /** The command whose usage to point at. */
    readonly command?: string,
  ) {
    super('ERR_USAGE', message);
  }
}

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder of the value in the help text, e.g. 'ADDR'. */
  readonly value?: string;
  readonly help: string;
  /** The option may be given more than once (its values are collected in order). */
  readonly multiple?: boolean;
}

/** A command: its synopsis, description and options. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples?: readonly string[];
}

/** The help text of a command. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: { type: 'boolean', short: 'h', help: 'show this help' } as OptionSpec }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const lines = [
    `Usage: envtest ${spec.name} [options]`,
    '',
    spec.summary,
    '',
    ...spec.description.split('\n').map((l) => l),
    '',
    'Options:',
    ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`),
  ];
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Parsed values: strings, booleans and (options with `multiple`) string lists by option name; `help` set when -h/--help was given. */
export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `argv` for `spec`. Unknown options, missing values and stray positionals become a
 * {@link UsageError} naming the offending text.
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedValues {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, spec.name);
    return values as ParsedValues;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // parseArgs' messages are clear but long ("... To specify a positional argument ..."): keep
    // their first sentence.
    const msg = (err as Error).message.split('. ')[0]!.replace(/\.$/, '');
    throw new UsageError(msg, spec.name);
  }
}

/**
 * `--name -5` → `--name=-5` (and `-x -5` → `-x-5`) for options that take a value: parseArgs
 * refuses a value starting with a dash as "ambiguous", but a negative number is never an option.
 */
function joinNegativeValues(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A number option: finite, within [min, max]; `undefined` when absent. */
export function numberOpt(values: ParsedValues, name: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  const { min = -Infinity, max = Infinity, integer = false } = opts;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` ≤ ${max}` : ''}`;
    throw new UsageError(`--${name} must be ${range}, got '${String(v)}'`);
  }
  return n;
}

/** A bigint option (integer ns, may be negative); `undefined` when absent. */
export function bigintOpt(values: ParsedValues, name: string): bigint | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} must be an integer number of ns, got '${String(v)}'`);
  return BigInt(v.trim());
}

/** A string option. */
export function stringOpt(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option (`multiple`): its values in order, `undefined` when absent. */
export function stringListOpt(values: ParsedValues, name: string): string[] | undefined {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
}

/**
 * An address option (`vsock://CID:PORT`, `unix:///path`, `tcp://host:port`, `hybrid:///path:PORT`),
 * checked here so that a malformed one is a usage error at once, never a connection failure.
 */
export function addressOpt(values: ParsedValues, name: string, fallback: string): { text: string; address: TransportAddress } {
  const text = stringOpt(values, name) ?? fallback;
  try {
    return { text, address: parseAddress(text) };
  } catch (err) {
    // The transport's message lists every accepted form on lines of its own: one line here.
    const why = (err as Error).message
      .split('\n')[0]!
      .replace(/\. Accepted forms:.*$/, '')
      .replace(/^Invalid transport address "[^"]*": /, '');
    throw new UsageError(`--${name} '${text}' is not an address: ${why} (use vsock://CID:PORT, unix:///path, tcp://HOST:PORT or hybrid:///path:PORT)`);
  }
}

/** `HOST:PORT` (or `:PORT`, `PORT`) of --metrics. */
export function hostPortOpt(values: ParsedValues, name: string): { host: string; port: number } | undefined {
  const v = stringOpt(values, name);
  if (v === undefined) return undefined;
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--${name} must be HOST:PORT (e.g. 127.0.0.1:9464), got '${v}'`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port };
}

/** A comma-separated list of vsock CIDs. */
export function cidListOpt(values: ParsedValues, name: string): number[] | undefined {
  const v = stringOpt(values, name);
  if (v === undefined) return undefined;
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const cids = parts.map(Number);
  if (parts.length === 0 || cids.some((c) => !Number.isInteger(c) || c < 0 || c > 0xffffffff)) {
    throw new UsageError(`--${name} must be a comma-separated list of CIDs (e.g. 3,4), got '${v}'`);
  }
  return cids;
}
