// One progress line on stderr: rewritten in place on a terminal, plain lines otherwise (CI logs,
// redirected output), where rewriting would leave a mess of carriage returns.

export interface Progress {
  update(text: string): void;
  /** print a line that stays (a warning, a failure) */
  note(text: string): void;
  done(): void;
}

export function formatElapsed(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  const t0 = performance.now();
  let live = false;
  const clear = (): void => {
    if (tty && live) stream.write('\r\x1b[K');
    live = false;
  };
  return {
    update(text) {
      const line = `[bench ${formatElapsed((performance.now() - t0) / 1000)}] ${text}`;
      if (tty) {
        const width = stream.columns ?? 120;
        stream.write(`\r\x1b[K${line.length > width - 1 ? line.slice(0, width - 2) + '…' : line}`);
        live = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    note(text) {
      clear();
      stream.write(`${text}\n`);
    },
    done() {
      clear();
    },
  };
}
