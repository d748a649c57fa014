/**
 * How soon after its fault ends (a stalled store, an overload's rate drop) a reliability scenario's
 * service must be back to answering everything: the service's own clocks that gate it are 1 s (the
 * store breaker's cool-down, the admission's lag interval), then a drain, with room for a busy
 * machine. One bound for db-stall and overload, so their thresholds and reports cannot drift apart.
 */
export const DEFAULT_MAX_RECOVERY_MS = 3_000;
