/** `gauntlet export-artillery`: a scenario's traffic as an Artillery script and processor, and what it leaves out. */
import path from 'node:path';
import type { Profile } from '../config/defaults.ts';
import { EXIT_CODES, UsageError } from '../exit-codes.ts';
import { buildArtilleryExport, writeArtilleryExport, ARTILLERY_PROCESSOR_FILE } from '../artillery/export-script.ts';
import { exportableIds, NO_ARTILLERY_TRAFFIC } from '../artillery/plan-artillery.ts';
import { telemetryOffShellPrefix } from '../artillery/spawn-artillery.ts';
import { DEFAULT_EXPORT_TARGET, targetCommandFor } from '../artillery/target-hint.ts';
import { describeTraffic } from '../artillery/traffic.ts';
import type { ArtilleryTraffic } from '../artillery/traffic.ts';
import type { ArtilleryExport } from '../artillery/export-script.ts';
import { loadFullCatalog } from '../scenario/catalog.ts';
import { parseTargetUrl } from './run-options.ts';

export interface ExportArtilleryArgs {
  readonly scenario: string;
  readonly profile: Profile;
  readonly out: string;
  /** Base URL in the script (default DEFAULT_EXPORT_TARGET). */
  readonly target: string | undefined;
  readonly scenariosDir: string | undefined;
}

export async function exportArtilleryCommand(args: ExportArtilleryArgs, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const catalog = await loadFullCatalog(args.scenariosDir);
  const definition = catalog.find((e) => e.definition.id === args.scenario)?.definition;
  const exportable = exportableIds(catalog).join(', ') || '(none)';
  if (definition === undefined) throw new UsageError(`unknown scenario '${args.scenario}'; scenarios that export to Artillery: ${exportable}`);
  if (definition.artillery === undefined) {
    throw new UsageError(
      `scenario '${definition.id}' has no Artillery traffic: ${NO_ARTILLERY_TRAFFIC}. Scenarios that export: ${exportable}`,
    );
  }
  const target = exportTarget(args.target);
  const params = definition.profiles[args.profile];
  let traffic: ArtilleryTraffic;
  let exported: ArtilleryExport;
  try {
    traffic = definition.artillery(params);
    exported = buildArtilleryExport(traffic, { target, origin: `${definition.id} (${args.profile})` });
  } catch (error) {
    throw new UsageError(`scenario module of '${definition.id}': its Artillery traffic is invalid: ${error instanceof Error ? error.message : String(error)}`);
  }
  const script = await writeArtilleryExport(args.out, exported);
  write(
    `wrote ${script} and ${path.join(args.out, ARTILLERY_PROCESSOR_FILE)}: ${describeTraffic(traffic)}, against ${target}\n` +
      `Only the traffic exports, not the checks: ${traffic.notExported}.\n` +
      `Start a target shaped as the scenario expects: ${targetCommandFor(definition.deployment?.(params))}\n` +
      `Then: ${telemetryOffShellPrefix()} npx artillery run ${script}   (or gauntlet run --engine artillery --scenario ${definition.id}, which imports the report)\n`,
  );
  return EXIT_CODES.ok;
}

function exportTarget(text: string | undefined): string {
  return text === undefined ? DEFAULT_EXPORT_TARGET : parseTargetUrl(text).origin;
}
