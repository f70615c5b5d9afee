/** A stream that keeps what is written to it, for a test to read or to wait on. */
import { Writable } from 'node:stream';

export class TextSink extends Writable {
  text = '';
  private readonly waiters: Array<{ text: string; resolve: () => void }> = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    for (const waiter of [...this.waiters]) {
      if (!this.text.includes(waiter.text)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    done();
  }

  /** Resolves once `text` has been written: an event to synchronise on, instead of a sleep. */
  written(text: string): Promise<void> {
    if (this.text.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }
}
