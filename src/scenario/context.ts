/** Builds the context a scenario runs with, bound to the run's target session and cancellation. */
import type { Clock } from '../clock.ts';
import type { Profile } from '../config/defaults.ts';
import { runBurst, runClosedModel, runOpenModel } from '../load/index.ts';
import type { LiveTotals, LoadResult } from '../load/index.ts';
import type { PromExposition } from '../measure/prometheus/parse.ts';
import { scrapeMetrics } from '../measure/prometheus/scrape.ts';
import type { TargetSession } from '../runner/target-session.ts';
import type { LoadApi, ScenarioContext, TargetView } from './context-types.ts';
import { Fixtures } from './fixtures.ts';
import { JsonClient } from './json-client.ts';

export interface ContextOptions {
  readonly profile: Profile;
  readonly session: TargetSession;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly onPhase: (label: string) => void;
  /** Tags usernames so fixtures never collide with earlier runs on the same target. */
  readonly runTag?: string;
}

export interface OwnedContext {
  readonly ctx: ScenarioContext;
  /** Requests the context's JSON client sent and failed, for progress. */
  readonly counts: () => { requests: number; errors: number };
  readonly close: () => Promise<void>;
}

/** A context for one scenario; `close()` it afterwards (it owns a connection pool). */
export function createScenarioContext(options: ContextOptions): OwnedContext {
  const { session, signal, clock } = options;
  // The JSON client follows the target: a restart may move it (same port is kept, but not promised).
  let http = new JsonClient(session.view().url, { signal });
  let fixtures = new Fixtures(http, options.runTag);
  const retired: JsonClient[] = [];
  const url = (): string => session.view().url;

  // Finished generator runs add to the counts; the running one is read live.
  const loadTotals = { requests: 0, errors: 0 };
  const live = new Set<() => LiveTotals>();
  const track = <R extends LoadResult>(start: (onStart: (read: () => LiveTotals) => void) => Promise<R>): Promise<R> => {
    let reader: (() => LiveTotals) | null = null;
    return start((read) => {
      reader = read;
      live.add(read);
    })
      .then((result) => {
        loadTotals.requests += result.sent;
        loadTotals.errors += result.errors;
        return result;
      })
      .finally(() => {
        if (reader !== null) live.delete(reader);
      });
  };
  const load: LoadApi = {
    open: (o) => track((onStart) => runOpenModel({ ...o, target: o.target ?? url(), signal, onStart })),
    closed: (o) => track((onStart) => runClosedModel({ ...o, target: o.target ?? url(), signal, onStart })),
    burst: (o) => track((onStart) => runBurst({ ...o, target: o.target ?? url(), signal, onStart })),
  };

  const scrape = async (at?: string): Promise<PromExposition> => {
    const metricsUrl = new URL('/metrics', at ?? url()).href;
    const outcome = await scrapeMetrics(metricsUrl, { signal });
    if (outcome.state === 'failed') throw new Error(`scraping ${metricsUrl} failed (${outcome.reason}): ${outcome.message}`);
    return outcome.exposition;
  };

  const control = session.control;
  const ctx: ScenarioContext = {
    profile: options.profile,
    get target(): TargetView {
      return session.view();
    },
    get http() {
      return http;
    },
    get fixtures() {
      return fixtures;
    },
    load,
    scrape,
    deployment:
      control === null
        ? null
        : {
            restart: async (needs, database) => {
              await control.restart(needs, database);
              if (session.view().url !== http.origin) {
                retired.push(http);
                http = new JsonClient(session.view().url, { signal });
                fixtures = new Fixtures(http, options.runTag);
              }
            },
            killInstance: (id, sig) => control.killInstance(id, sig),
            restartInstance: (id) => control.restartInstance(id),
          },
    signal,
    clock,
    phase: options.onPhase,
  };

  return {
    ctx,
    counts: () => {
      const all = [...retired, http].map((c) => c.counts);
      const running = [...live].map((read) => read());
      return {
        requests: loadTotals.requests + running.reduce((s, r) => s + r.sent, 0) + all.reduce((s, c) => s + c.requests, 0),
        errors: loadTotals.errors + running.reduce((s, r) => s + r.errors, 0) + all.reduce((s, c) => s + c.errors, 0),
      };
    },
    close: async () => {
      await Promise.all([...retired, http].map((c) => c.close()));
    },
  };
}
