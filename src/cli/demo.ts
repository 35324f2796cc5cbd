import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { createBackbone, createJobRegistry } from '../backbone.ts';
import {
  DEFAULT_DEMO_CUSTOMERS,
  DEFAULT_DEMO_SEED,
  DEMO_WORKSPACE,
  type DemoPhase,
  type DemoProgress,
  type DemoStep,
  type DemoSummary,
  parseCustomerCount,
  runDemo,
  runPrivacyStory,
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
      return progress.status === 'fitted'
        ? `Customer value: models fitted, ${progress.customers} value profiles scored as of ${progress.asOf} (${progress.seconds} s).`
        : `Customer value: ${progress.status}. ${progress.reason ?? ''} (${progress.seconds} s).`;
    case 'facts':
      return `Facts from behaviour: ${progress.created} derived, ${progress.replaced} changed (${progress.seconds} s).`;
    case 'relationships':
      return `Relationships: ${progress.customers} customers given an archetype; the ${progress.planted} planted personas recovered with macro-F1 ${progress.macroF1.toFixed(3)} (${progress.seconds} s).`;
    case 'moments':
      return `Small moments (default playbook, the last 30 days): ${progress.moments} moments, ${progress.decisions} decisions, ${progress.actions} actions queued (${progress.seconds} s).`;
    case 'recommendations':
      return `Recommendations: trained for ${progress.customers} customers over ${progress.items} items (${progress.seconds} s).`;
    case 'highlights':
      return `Highlights: ${progress.count} customers worth a look (${progress.seconds} s).`;
  }
}

function humanSummary(summary: DemoSummary): string {
  const lines = [
    `Workspace "${summary.workspace.name}" holds a synthetic world of ${summary.world.customers} people (seed "${summary.world.seed}", ending ${summary.world.end}): ${summary.world.sourceRecords} customer records and ${summary.world.interactions} interactions (${summary.seconds} s).`,
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
    '',
    'In the browser: create a staff user (`npx cornerstore user create you@example.com --role admin`), sign',
    `in at ${summary.url}/ and open ${summary.url}/#/identity (reviews), ${summary.url}/#/value and`,
    `${summary.url}/#/segments; each customer below is at ${summary.url}/#/customers/<id>.`,
  );
  for (const h of summary.highlights) {
    lines.push('', `${h.name} (${h.customerId}) [${h.kind}]`, `  ${h.why}`);
    lines.push(`  ${summary.url}/#/customers/${h.customerId}`);
    for (const r of h.records ?? []) lines.push(`  ${r.source}/${r.externalId} → ${r.customerId}`);
    if (h.moment) {
      if (h.moment.script) lines.push(`  Script: ${h.moment.script}`);
      lines.push(
        `  curl -s "${h.moment.nextBestActionsUrl}" -H "Authorization: Bearer $KEY"`,
        `  curl -s "${h.moment.decisionUrl}" -H "Authorization: Bearer $KEY"`,
      );
    }
    if (h.relationship) {
      lines.push(
        `  curl -s "${h.relationship.relationshipUrl}?purpose=service" -H "Authorization: Bearer $KEY"`,
      );
    }
    lines.push(
      `  curl -s "${h.customerUrl}?purpose=service" -H "Authorization: Bearer $KEY"`,
      `  curl -s "${h.timelineUrl}?purpose=service" -H "Authorization: Bearer $KEY"`,
    );
    if (h.recommendationsUrl) {
      lines.push(
        `  curl -s "${h.recommendationsUrl}?purpose=personalization" -H "Authorization: Bearer $KEY"`,
      );
    }
  }
  return lines.join('\n');
}

const PHASE_LABELS: Record<DemoPhase, string> = {
  customers: 'Customers   ',
  interactions: 'Interactions',
  identity: 'Identity    ',
  value: 'Value       ',
  facts: 'Facts       ',
  relationships: 'Relations   ',
  moments: 'Moments     ',
  recommendations: 'Recommend   ',
  highlights: 'Highlights  ',
};

/**
 * Progress on stderr: on a terminal, a bar per phase (people loaded; a single step for the others)
 * replaced by the phase's line when it finishes; otherwise only the lines.
 */
function progressPrinter(): {
  onStep: (step: DemoStep) => void;
  onProgress: (progress: DemoProgress) => void;
  stop: () => void;
} {
  const line = (progress: DemoProgress) => process.stderr.write(`${progressLine(progress)}\n`);
  if (!process.stderr.isTTY) return { onStep: () => {}, onProgress: line, stop: () => {} };
  let bar: { phase: DemoPhase; bar: cliProgress.SingleBar } | undefined;
  const stop = () => {
    bar?.bar.stop();
    bar = undefined;
  };
  return {
    onStep: (step) => {
      if (bar?.phase !== step.phase) {
        stop();
        const single = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${PHASE_LABELS[step.phase]} {bar} {percentage}% | {value} of {total}${step.total > 1 ? ' people' : ''} | {duration}s`,
            barsize: 30,
            hideCursor: true,
            clearOnComplete: true,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        single.start(step.total, step.done);
        bar = { phase: step.phase, bar: single };
      } else {
        bar.bar.update(step.done);
      }
    },
    onProgress: (progress) => {
      stop();
      line(progress);
    },
    stop,
  };
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
    .option(
      '--as-of <date>',
      'the day the world ends on, YYYY-MM-DD (default today); value is then scored as of that day',
    )
    .option(
      '--privacy-story',
      'instead: tell the misspelled-name story in a workspace of its own (sharing, correction that travels, erasure, suppression)',
    )
    .action(
      action(
        async (
          options: { customers?: string; seed?: string; asOf?: string; privacyStory?: boolean },
          command: Command,
        ) => {
          const opts = command.optsWithGlobals<GlobalOptions>();
          if (options.privacyStory) {
            const story = await withDatabase((database, config) =>
              runPrivacyStory(database, {
                settle: async () => {
                  await createBackbone(database, createJobRegistry(config)).dispatcher.drain();
                },
              }),
            );
            emit(opts, story, () =>
              [
                `Workspace ${story.workspace}, customer ${story.customerId}:`,
                ...story.steps.map((s, i) => `  ${i + 1}. ${s}`),
                'Notifications:',
                ...story.notifications.map(
                  (n) => `  ${n.cause} → ${n.recipient} (${n.channel}): ${n.status}`,
                ),
                `The local webhook receiver got: ${story.webhookReceived.map((r) => `${r.type} [${r.id}]`).join(', ')}`,
              ].join('\n'),
            );
            return;
          }
          const customers =
            options.customers === undefined ? DEFAULT_DEMO_CUSTOMERS : parseCustomerCount(options.customers);
          const summary = await withDatabase((database, config) => {
            process.stderr.write(
              `Loading a synthetic world of ${customers} people into workspace "${DEMO_WORKSPACE}" (${database.location})…\n`,
            );
            const printer = progressPrinter();
            return runDemo(database, {
              customers,
              seed: options.seed,
              asOf: options.asOf,
              dataDir: config.dataDir,
              baseUrl: `http://${config.host}:${config.port}`,
              onProgress: printer.onProgress,
              onStep: printer.onStep,
            }).finally(printer.stop);
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
              value: summary.value,
              highlights: summary.highlights,
              seconds: summary.seconds,
            },
            () => humanSummary(summary),
          );
        },
      ),
    );
}
