/**
 * Progress for long work. On a terminal: a progress bar on stderr. Elsewhere (logs, CI, tests): a
 * plain line after the first batch and then at most twice a second, plus a final line.
 */
import cliProgress from 'cli-progress';
import { cliIo } from './cli-io.js';

export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

export function startProgress(label: string, total: number, stream = cliIo().stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} {detail}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0, { detail: '' });
    return {
      update: (done, detail = '') => {
        if (done > bar.getTotal()) bar.setTotal(done);
        bar.update(done, { detail });
      },
      stop: () => bar.stop(),
    };
  }
  let lastPrinted = 0;
  let last = '';
  const line = (done: number, detail: string) =>
    `${label}: ${done}/${Math.max(total, done)}${detail ? ` ${detail}` : ''}\n`;
  return {
    update(done, detail = '') {
      last = line(done, detail);
      const now = Date.now();
      if (now - lastPrinted >= 500) {
        lastPrinted = now;
        cliIo().stdout.write(last);
      }
    },
    stop() {
      if (last) cliIo().stdout.write(last);
    },
  };
}
