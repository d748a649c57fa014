/** Keeps the last lines a child wrote, so a start failure can show them. */

/** Lines of a child's stderr kept for error messages. */
export const STDERR_TAIL_LINES = 20;

/** A bounded buffer of the most recent text lines written into it. */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly maxLines = STDERR_TAIL_LINES) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.maxLines) this.lines = this.lines.slice(-this.maxLines);
  }

  text(): string {
    const all = this.partial === '' ? this.lines : [...this.lines, this.partial];
    return all.slice(-this.maxLines).join('\n');
  }
}
