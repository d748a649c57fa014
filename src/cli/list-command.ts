/** `gauntlet list`: the scenarios, their metrics and default thresholds. */
import { EXIT_CODES } from '../exit-codes.ts';
import { loadFullCatalog } from '../scenario/catalog.ts';

export async function listCommand(json: boolean, scenariosDir: string | undefined): Promise<number> {
  const catalog = await loadFullCatalog(scenariosDir);
  if (json) {
    const plain = catalog.map(({ definition: d, file }) => ({
      id: d.id,
      group: d.group,
      title: d.title,
      objective: d.objective,
      file,
      metrics: d.metrics,
      thresholds: d.thresholds,
      profiles: d.profiles,
      artillery: d.artillery !== undefined,
    }));
    process.stdout.write(`${JSON.stringify(plain, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  for (const { definition: d } of catalog) {
    process.stdout.write(`${d.group}/${d.id} — ${d.title}\n  ${d.objective}\n`);
    process.stdout.write(`  metrics: ${d.metrics.map((m) => m.name).join(', ')}\n`);
    process.stdout.write(`  thresholds: ${d.thresholds.join(' · ') || '(none)'}\n`);
    if (d.artillery !== undefined) process.stdout.write('  exports to Artillery: its traffic, not its checks (export-artillery, run --engine artillery)\n');
  }
  return EXIT_CODES.ok;
}
