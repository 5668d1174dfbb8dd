// The machine a report was measured on: figures from different machines are not comparable.
import os from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  /** 1-minute load average at start and end: a loaded shared machine explains a lot */
  readonly loadStart: number;
  loadEnd: number;
  /** path of a working taskset, null when pinning was impossible */
  readonly taskset: string | null;
}

export function describeMachine(taskset: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadStart: os.loadavg()[0] ?? 0,
    loadEnd: os.loadavg()[0] ?? 0,
    taskset,
  };
}
