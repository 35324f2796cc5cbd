import type { Command } from 'commander';
import {
  DEFAULT_DEMO_CUSTOMERS,
  DEFAULT_DEMO_SEED,
  DEMO_WORKSPACE,
  type DemoProgress,
  type DemoSummary,
  parseCustomerCount,
  runDemo,
} from '../demo/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

function progressLine(progress: DemoProgress): string {
  switch (progress.phase) {
    case 'workspace':
      return `Workspace "${progress.name}" ${progress.created ? 'created' : 'found'} (${progress.id}); admin key ${progress.keyCreated ? 'written to' : 'read from'} ${progress.keyFile}.`;
    case 'customers':
      return `Customers: ${progress.sourceRecords} source records, ${progress.created} created, ${progress.existing} already there (${progress.seconds} s).`;
    case 'interactions':
      return `Interactions: ${progress.interactions} ingested, ${progress.created} created, ${progress.existing} already there${progress.rejected > 0 ? `, ${progress.rejected} rejected` : ''} (${progress.seconds} s).`;
    case 'identity':
      return `Identity resolution: ${progress.merged} customers merged into another, ${progress.queued} pairs left for review (${progress.seconds} s).`;
    case 'value':
      return `Customer value: models fitted, ${progress.customers} value profiles (${progress.seconds} s).`;
    case 'highlights':
      return `Highlights: ${progress.count} customers worth a look (${progress.seconds} s).`;
  }
}

function humanSummary(summary: DemoSummary): string {
  const lines = [
    `Workspace "${summary.workspace.name}" holds a synthetic world of ${summary.world.customers} people (seed "${summary.world.seed}"): ${summary.world.sourceRecords} customer records and ${summary.world.interactions} interactions (${summary.seconds} s).`,
  ];
  if (summary.policy.dropped > 0 || summary.policy.masked > 0) {
    lines.push(
      `The data policy dropped forbidden fields (card numbers, national ids) from ${summary.policy.dropped} interactions and masked them in the text of ${summary.policy.masked}.`,
    );
  }
  if (summary.rejected.firstError) {
    lines.push(
      `${summary.rejected.interactions} interactions were rejected; the first: ${summary.rejected.firstError.code} ${summary.rejected.firstError.message}`,
    );
  }
  lines.push(
    '',
    `Admin API key (kept in ${summary.keyFile}):`,
    summary.apiKey,
    '',
    `Run \`npm start\` to serve it at ${summary.url} (API documentation at ${summary.url}/docs), then:`,
    `  KEY=$(cat ${summary.keyFile})`,
  );
  for (const h of summary.highlights) {
    lines.push('', `${h.name} (${h.customerId}) [${h.kind}]`, `  ${h.why}`);
    for (const r of h.records ?? []) lines.push(`  ${r.source}/${r.externalId} → ${r.customerId}`);
    lines.push(
      `  curl -s "${h.customerUrl}?purpose=service" -H "Authorization: Bearer $KEY"`,
      `  curl -s "${h.timelineUrl}?purpose=service" -H "Authorization: Bearer $KEY"`,
    );
  }
  return lines.join('\n');
}

/** `demo`: a workspace filled with a realistic synthetic world, through the real ingest path. */
export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description(
      `Create the workspace "${DEMO_WORKSPACE}" filled with a synthetic customer world (safe to run again).`,
    )
    .option('--customers <n>', `people in the world (default ${DEFAULT_DEMO_CUSTOMERS})`)
    .option(
      '--seed <seed>',
      `seed of the world; the same seed gives the same world (default "${DEFAULT_DEMO_SEED}")`,
    )
    .action(
      action(async (options: { customers?: string; seed?: string }, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const customers =
          options.customers === undefined ? DEFAULT_DEMO_CUSTOMERS : parseCustomerCount(options.customers);
        const summary = await withDatabase((database, config) => {
          process.stderr.write(
            `Loading a synthetic world of ${customers} people into workspace "${DEMO_WORKSPACE}" (${database.location})…\n`,
          );
          return runDemo(database, {
            customers,
            seed: options.seed,
            dataDir: config.dataDir,
            baseUrl: `http://${config.host}:${config.port}`,
            onProgress: (progress) => process.stderr.write(`${progressLine(progress)}\n`),
          });
        });
        emit(
          opts,
          {
            workspace: summary.workspace,
            apiKey: summary.apiKey,
            keyFile: summary.keyFile,
            url: summary.url,
            world: summary.world,
            created: summary.created,
            existing: summary.existing,
            rejected: summary.rejected,
            policy: summary.policy,
            identity: summary.identity,
            highlights: summary.highlights,
            seconds: summary.seconds,
          },
          () => humanSummary(summary),
        );
      }),
    );
}
