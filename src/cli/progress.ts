/** Progress on stderr: a live line per scenario on a TTY, plain log lines otherwise (CI). */
import type { RunEvent } from '../runner/run.ts';

/** How often the live line is redrawn. */
export const PROGRESS_REDRAW_MS = 250;

export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

export class ProgressReporter {
  readonly #out: ProgressSink;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #current: { id: string; label: string; index: number; total: number; startMs: number; phase: string; counts: () => { requests: number; errors: number } } | null = null;

  constructor(out: ProgressSink, now: () => number = () => performance.now()) {
    this.#out = out;
    this.#now = now;
  }

  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'target-ready':
        this.#line(`target ${event.url}${event.store === null ? ' (external)' : ` · ${event.store.reason}`}`);
        break;
      case 'scenario-start':
        this.#current = { id: event.id, label: event.title, index: event.index, total: event.total, startMs: this.#now(), phase: '', counts: event.counts };
        if (this.#out.isTTY) this.#timer = setInterval(() => this.#redraw(), PROGRESS_REDRAW_MS);
        else this.#line(`[${event.index + 1}/${event.total}] ${event.id}: ${event.title} ...`);
        break;
      case 'scenario-phase':
        if (this.#current === null) break;
        this.#current.phase = event.label;
        if (this.#out.isTTY) this.#redraw();
        else this.#line(`[${this.#current.index + 1}/${this.#current.total}] ${event.id}: ${event.label}`);
        break;
      case 'scenario-end': {
        this.#stopTimer();
        const r = event.result;
        const why = r.reasons.length > 0 ? ` — ${r.reasons.slice(0, 3).join('; ')}${r.reasons.length > 3 ? ` (+${r.reasons.length - 3} more)` : ''}` : '';
        this.#clear();
        this.#line(`[${event.index + 1}/${event.total}] ${r.id}: ${r.status.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)}s${why}`);
        this.#current = null;
        break;
      }
    }
  };

  /** Stops the redraw timer; call once the run is over. */
  close(): void {
    this.#stopTimer();
    this.#clear();
  }

  #redraw(): void {
    const c = this.#current;
    if (c === null) return;
    const elapsed = (this.#now() - c.startMs) / 1000;
    const { requests, errors } = c.counts();
    const rate = elapsed > 0 ? Math.round(requests / elapsed) : 0;
    const phase = c.phase === '' ? '' : ` · ${c.phase}`;
    this.#out.write(`\r\x1b[2K[${c.index + 1}/${c.total}] ${c.id} · ${elapsed.toFixed(1)}s · ${requests} req · ${rate}/s · ${errors} err${phase}`);
  }

  #clear(): void {
    if (this.#out.isTTY) this.#out.write('\r\x1b[2K');
  }

  #line(text: string): void {
    this.#out.write(`${text}\n`);
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
