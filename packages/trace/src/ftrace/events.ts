/**
 * Resolving event specs against tracefs: which events `system:name` / `system:*` mean, their
 * format files, and enabling them (with their filters) in an instance. Unknown events are found
 * before the instance is created, so a typo leaves nothing behind.
 * @packageDocumentation
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { escapeText } from '@vsock-rpc/wire';
import { FtraceError } from './errors.js';
import { parseFormatFile, type FtraceEventFormat } from './format.js';
import { writeControl } from './instance.js';
import type { FtraceEventSpec } from './types.js';

/** One spec resolved: the events it names and where its enable/filter files are (relative to an events/ dir). */
export interface ResolvedSpec {
  spec: FtraceEventSpec;
  /** `sched/sched_switch`, or `irq` for `irq:*`. */
  dir: string;
  /** The events it covers: `system/name`. */
  events: string[];
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Finds the events each spec names under `<root>/events`. `ftrace:print` is not an event to
 * enable: it means markers, and is left out (the caller turns markers on).
 * @throws FtraceError EVENT_NOT_FOUND naming the event and the path looked at
 */
export function resolveSpecs(root: string, specs: readonly FtraceEventSpec[]): { resolved: ResolvedSpec[]; wantsMarkers: boolean } {
  const resolved: ResolvedSpec[] = [];
  let wantsMarkers = false;
  const list = `${root}/available_events`;
  for (const spec of specs) {
    const label = `${spec.system}:${spec.name}`;
    if (spec.system === 'ftrace') {
      if (spec.name === 'print' || spec.name === '*') {
        if (spec.filter !== undefined)
          throw new FtraceError('BAD_FILTER', `ftrace: markers (${label}) cannot be filtered: drop the [${escapeText(spec.filter)}]`);
        wantsMarkers = true;
        continue;
      }
      throw new FtraceError(
        'EVENT_NOT_FOUND',
        `ftrace event ${label} is internal to the kernel's tracers and cannot be enabled; only ftrace:print (trace_marker lines) can be read`,
        {
          path: `${root}/events/ftrace/${spec.name}`,
        },
      );
    }
    const sysDir = `${root}/events/${spec.system}`;
    if (!isDir(sysDir)) {
      throw new FtraceError(
        'EVENT_NOT_FOUND',
        `unknown ftrace event ${label}: there is no event system ${JSON.stringify(spec.system)} (${sysDir} does not exist; see ${list})`,
        {
          path: sysDir,
        },
      );
    }
    if (spec.name === '*') {
      const events = readdirSync(sysDir)
        .filter((n) => existsSync(`${sysDir}/${n}/format`))
        .sort()
        .map((n) => `${spec.system}/${n}`);
      if (events.length === 0) throw new FtraceError('EVENT_NOT_FOUND', `ftrace event ${label} matches no event (${sysDir} has none)`, { path: sysDir });
      resolved.push({ spec, dir: spec.system, events });
      continue;
    }
    const format = `${sysDir}/${spec.name}/format`;
    if (!existsSync(format)) {
      throw new FtraceError('EVENT_NOT_FOUND', `unknown ftrace event ${label}: ${format} does not exist (see ${list})`, { path: format });
    }
    resolved.push({ spec, dir: `${spec.system}/${spec.name}`, events: [`${spec.system}/${spec.name}`] });
  }
  return { resolved, wantsMarkers };
}

/**
 * Reads and parses the format files of `events` (`system/name`) under `<eventsDir>`; a format the
 * parser does not understand is reported to `warn` and left out (its events then count as
 * undecodable, they never stop the reader).
 */
export function readFormats(eventsDir: string, events: readonly string[], warn: (m: string) => void): FtraceEventFormat[] {
  const formats: FtraceEventFormat[] = [];
  for (const ev of events) {
    const [system = '', name = ''] = ev.split('/');
    const path = `${eventsDir}/${ev}/format`;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      warn(`ftrace: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}): events ${system}:${name} will be counted undecodable`);
      continue;
    }
    const f = parseFormatFile(text, system);
    if (f === undefined) {
      warn(`ftrace: ${path} is not a format file this reader understands: events ${system}:${name} will be counted undecodable`);
      continue;
    }
    formats.push(f);
  }
  return formats;
}

/** The kernel's message about a rejected filter: the filter file's text, else the error_log tail. */
function filterComplaint(filterFile: string, errorLog: string): string {
  for (const p of [filterFile, errorLog]) {
    try {
      const text = readFileSync(p, 'utf8').trim();
      if (text && text !== 'none') return escapeText(text.split('\n').slice(-4).join(' | '));
    } catch {
      // fall through to the next source
    }
  }
  return 'no details from the kernel';
}

/**
 * Writes the filters and enables the resolved specs in the instance at `instance`.
 * @throws FtraceError BAD_FILTER with the kernel's complaint, EVENT_NOT_FOUND / INSTANCE_FAILED on other failures
 */
export function enableSpecs(instance: string, resolved: readonly ResolvedSpec[]): void {
  for (const { spec, dir } of resolved) {
    const label = `${spec.system}:${spec.name}`;
    const base = `${instance}/events/${dir}`;
    if (spec.filter !== undefined) {
      try {
        writeControl(`${base}/filter`, spec.filter, 'BAD_FILTER', `filter of ${label}`);
      } catch (e) {
        const why = filterComplaint(`${base}/filter`, `${instance}/error_log`);
        throw new FtraceError('BAD_FILTER', `ftrace: the kernel rejected the filter [${escapeText(spec.filter)}] of ${label} (${base}/filter): ${why}`, {
          path: `${base}/filter`,
          cause: e,
        });
      }
    }
    writeControl(`${base}/enable`, '1', 'EVENT_NOT_FOUND', `enabling ${label}`);
  }
}
