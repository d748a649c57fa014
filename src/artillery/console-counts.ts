/**
 * Live request and error counts for gauntlet's progress line, read from Artillery's console
 * output: it prints each period's counters (every 10 s) and, at the end, the run's totals again.
 */

/** Counter lines that add to the counts: `name: ........ N`. */
const COUNTER_LINE = /^(http\.requests|errors\.[^:]+|plugins\.expect\.failed\.statusCode): \.+ (\d+)\s*$/;
/** Artillery's closing block repeats the totals; counting stops there. */
const SUMMARY_LINE = /^Summary report @/;

export class ArtilleryConsoleCounts {
  #requests = 0;
  #errors = 0;
  #summaryReached = false;
  #partial = '';

  /** Feeds a chunk of Artillery's stdout (lines may be split across chunks). */
  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
  }

  get counts(): { requests: number; errors: number } {
    return { requests: this.#requests, errors: this.#errors };
  }

  #line(line: string): void {
    if (SUMMARY_LINE.test(line)) this.#summaryReached = true;
    if (this.#summaryReached) return;
    const match = COUNTER_LINE.exec(line);
    if (match?.[1] === undefined) return;
    const n = Number(match[2]);
    if (match[1] === 'http.requests') this.#requests += n;
    else this.#errors += n;
  }
}
