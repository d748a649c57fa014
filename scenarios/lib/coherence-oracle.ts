/**
 * The cache-coherence oracle: once a write of version v is acknowledged at t_ack, no read that
 * starts after t_ack (on any instance) may return a version below v. Pure: it judges timestamps
 * and versions the traffic recorded, so tests can feed exact values.
 */

/** A write the service acknowledged: the family is at `version` from `tAck` on. */
export interface AckedWrite {
  readonly familyId: string;
  readonly version: number;
  /** Clock time the acknowledgement (the response) was received. */
  readonly tAck: number;
}

/** A successful read of a family and the version it returned. */
export interface ObservedRead {
  readonly familyId: string;
  /** Which way it went: an instance ID, or `balancer`. */
  readonly via: string;
  /** The instance that answered (x-instance-id), when known. */
  readonly instanceId: string | null;
  /** Clock time the request was sent. */
  readonly tStart: number;
  readonly version: number;
}

export interface CoherenceViolation {
  readonly familyId: string;
  readonly via: string;
  readonly instanceId: string | null;
  readonly versionSeen: number;
  /** The highest version acknowledged before the read started. */
  readonly versionAcknowledged: number;
  /** How long before the read started the first write it missed was acknowledged (ms). */
  readonly lateMs: number;
}

export interface CoherenceVerdict {
  readonly violations: readonly CoherenceViolation[];
  /** Max of `lateMs` over the violations; 0 when coherent. */
  readonly stalenessMaxMs: number;
}

/** Judges every read against the writes acknowledged before it started. */
export function judgeCoherence(acks: readonly AckedWrite[], reads: readonly ObservedRead[]): CoherenceVerdict {
  const byFamily = new Map<string, AckedWrite[]>();
  for (const ack of acks) {
    const list = byFamily.get(ack.familyId);
    if (list === undefined) byFamily.set(ack.familyId, [ack]);
    else list.push(ack);
  }
  for (const list of byFamily.values()) list.sort((a, b) => a.tAck - b.tAck);

  const violations: CoherenceViolation[] = [];
  let stalenessMaxMs = 0;
  for (const read of reads) {
    const list = byFamily.get(read.familyId) ?? [];
    const known = countBefore(list, read.tStart);
    let acknowledged = 0;
    // The earliest acknowledged write the read should have seen: staleness counts from it.
    let firstMissed: AckedWrite | undefined;
    for (let i = 0; i < known; i++) {
      const ack = list[i];
      if (ack === undefined) break;
      acknowledged = Math.max(acknowledged, ack.version);
      if (firstMissed === undefined && ack.version > read.version) firstMissed = ack;
    }
    if (read.version >= acknowledged) continue;
    // Whole microseconds: keeps results free of binary noise such as 61.22062000000005.
    const lateMs = firstMissed === undefined ? 0 : Math.round((read.tStart - firstMissed.tAck) * 1000) / 1000;
    stalenessMaxMs = Math.max(stalenessMaxMs, lateMs);
    violations.push({
      familyId: read.familyId,
      via: read.via,
      instanceId: read.instanceId,
      versionSeen: read.version,
      versionAcknowledged: acknowledged,
      lateMs,
    });
  }
  return { violations, stalenessMaxMs };
}

/** How many of `sorted` (by tAck) were acknowledged strictly before `t`: binary search. */
function countBefore(sorted: readonly AckedWrite[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid]?.tAck ?? Infinity) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A short, readable account of the first few violations, for a check's detail. */
export function describeViolations(violations: readonly CoherenceViolation[], limit: number): string {
  const shown = violations.slice(0, limit).map((v) => {
    const where = v.instanceId === null || v.instanceId === v.via ? v.via : `${v.via} (answered by ${v.instanceId})`;
    return `family ${v.familyId} via ${where}: saw version ${v.versionSeen} after version ${v.versionAcknowledged} was acknowledged (${round(v.lateMs)} ms late)`;
  });
  const more = violations.length > limit ? `; +${violations.length - limit} more` : '';
  return shown.join('; ') + more;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
