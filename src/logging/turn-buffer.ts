/**
 * Collects the log lines written during one turn of the event loop and hands them to the stream in
 * one write. Under load each turn answers many requests; one write per line cost a call into the
 * stream (and a trip to libuv's thread pool) per request, one write per turn costs one for them all.
 */
export interface LineSink {
  write(text: string): unknown;
}

export class TurnBuffer implements LineSink {
  private pending = '';
  private scheduled = false;

  constructor(private readonly out: LineSink) {}

  write(text: string): boolean {
    this.pending += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /** Hands over what is pending now (before an exit, or at the end of the turn). */
  readonly drain = (): void => {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  };
}
