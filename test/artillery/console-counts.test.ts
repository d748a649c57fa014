import { describe, expect, it } from 'vitest';
import { ArtilleryConsoleCounts } from '../../src/artillery/console-counts.ts';

/** Artillery 2.0.21's console output, cut down: two periods, then the summary repeating the totals. */
const OUTPUT = `Test run id: t123
Phase started: release (index: 0, duration: 1s) 09:24:19(+0000)
--------------------------------------
Metrics for period to: 09:24:20(+0000) (width: 0.3s)
--------------------------------------

http.codes.201: ................................................................ 60
http.requests: ................................................................. 67
errors.ECONNRESET: ............................................................. 2
plugins.expect.failed.statusCode: .............................................. 1
--------------------------------------
Metrics for period to: 09:24:30(+0000) (width: 0.683s)
--------------------------------------

http.requests: ................................................................. 145
--------------------------------
Summary report @ 09:24:23(+0000)
--------------------------------

http.requests: ................................................................. 212
errors.ECONNRESET: ............................................................. 2
`;

describe("Artillery's console counts", () => {
  it('adds up the periods and stops at the summary, however the output is chunked', () => {
    for (const size of [OUTPUT.length, 7, 1]) {
      const counts = new ArtilleryConsoleCounts();
      for (let i = 0; i < OUTPUT.length; i += size) counts.push(OUTPUT.slice(i, i + size));
      expect(counts.counts).toEqual({ requests: 212, errors: 3 });
    }
  });
});
