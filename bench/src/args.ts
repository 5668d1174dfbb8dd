// Command line of bench/dist/run.js. Pure, so it is tested without running anything.

export interface Options {
  readonly quick: boolean;
  readonly json: string | null;
  readonly only: readonly string[] | null;
  readonly reps: number | null;
  /** where REPORT.md and the charts go; null means bench/results */
  readonly out: string | null;
  readonly help: boolean;
  /** leave the summary block of the root README.md alone */
  readonly noReadme: boolean;
}

export class ArgsError extends Error {}

export const usage = `usage: node bench/dist/run.js [--quick] [--json FILE] [--only NAME[,NAME]] [--reps N] [--out DIR] [--no-readme]

  --quick        short runs and 3 repetitions (well under a minute)
  --json FILE    also write every figure and raw sample as JSON
  --only NAMES   run only these workloads (comma-separated; repeatable)
  --reps N       repetitions per variant (default 5, or 3 with --quick)
  --out DIR      directory for REPORT.md and the SVG charts (default bench/results; bench/results/partial with --only)
  --no-readme    do not rewrite the summary between the bench-summary markers of README.md
                 (never rewritten by a run restricted with --only)
  --help         this text`;

export function parseArgs(argv: readonly string[]): Options {
  let quick = false;
  let json: string | null = null;
  let only: string[] | null = null;
  let reps: number | null = null;
  let out: string | null = null;
  let help = false;
  let noReadme = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // accept both "--flag value" and "--flag=value"
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ArgsError(`${flag} needs a value`);
      i++;
      return next;
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--json':
        json = value();
        break;
      case '--out':
        out = value();
        break;
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        if (names.length === 0) throw new ArgsError('--only needs at least one workload name');
        only = [...(only ?? []), ...names];
        break;
      }
      case '--reps': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
          throw new ArgsError(`--reps must be a positive integer, got '${v}'`);
        }
        reps = n;
        break;
      }
      case '--no-readme':
        noReadme = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new ArgsError(`unknown argument '${arg}'`);
    }
  }
  return { quick, json, only, reps, out, help, noReadme };
}

/** Checks --only against the known workload names, so a typo fails before minutes of running. */
export function selectWorkloads<T extends { readonly name: string }>(all: readonly T[], only: readonly string[] | null): T[] {
  if (!only) return [...all];
  const known = new Set(all.map((w) => w.name));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ArgsError(`unknown workload ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${[...known].join(', ')})`);
  }
  const wanted = new Set(only);
  return all.filter((w) => wanted.has(w.name));
}
