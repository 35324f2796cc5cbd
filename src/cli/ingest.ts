import type { Command } from 'commander';
import { invalid } from '../shared/errors.ts';
import { DEFAULT_STREAM_LAYOUT, runNatsIngest } from '../streams/index.ts';
import { getWorkspaceByRef, operatorActor } from '../workspaces/index.ts';
import { action, emit, type GlobalOptions, withDatabase } from './output.ts';

interface IngestOptions {
  from: string;
  workspace: string;
  stream: string;
  subject: string;
  buckets: number;
  consumers: number;
  member: number;
  batch: number;
  concurrency: number;
  ackWait: number;
  untilIdle?: number;
}

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw invalid('OPTION_INVALID', `Expected a whole number from ${min} to ${max}, got "${value}".`);
    }
    return n;
  };
}

/** `ingest --from nats://…`: a streaming ingest consumer. */
export function registerIngestCommands(program: Command): void {
  program
    .command('ingest')
    .description(
      'Consume interactions from a NATS JetStream stream, one per message, acknowledged after they are stored.',
    )
    .requiredOption('--from <url>', 'the stream server, nats://host:port')
    .option('--workspace <ref>', 'workspace id or name', 'default')
    .option('--stream <name>', 'the JetStream stream', DEFAULT_STREAM_LAYOUT.stream)
    .option(
      '--subject <prefix>',
      'subject prefix of the buckets (<prefix>.<bucket>)',
      DEFAULT_STREAM_LAYOUT.subjectPrefix,
    )
    .option(
      '--buckets <n>',
      'buckets the customers are hashed into',
      wholeNumber(1, 1024),
      DEFAULT_STREAM_LAYOUT.buckets,
    )
    .option('--consumers <n>', 'consumer processes in all', wholeNumber(1, 1024), 1)
    .option('--member <k>', 'which consumer this is, from 0', wholeNumber(0, 1023), 0)
    .option('--batch <n>', 'messages per transaction', wholeNumber(1, 10_000), 500)
    .option(
      '--concurrency <n>',
      'transactions in flight at once, each on buckets of its own',
      wholeNumber(1, 64),
      2,
    )
    .option(
      '--ack-wait <seconds>',
      'how long a delivered message waits before it is delivered again',
      wholeNumber(1, 3600),
      30,
    )
    .option(
      '--until-idle <seconds>',
      'stop once no message arrived for this long (default: run until stopped)',
      wholeNumber(1, 86_400),
    )
    .action(
      action(async (options: IngestOptions, command: Command) => {
        const opts = command.optsWithGlobals<GlobalOptions>();
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const summary = await withDatabase(async (database) => {
          const workspace = await getWorkspaceByRef(database.db, options.workspace);
          return runNatsIngest(database.db, operatorActor(workspace.id), {
            url: options.from,
            stream: options.stream,
            subjectPrefix: options.subject,
            buckets: options.buckets,
            consumers: options.consumers,
            member: options.member,
            batch: options.batch,
            concurrency: options.concurrency,
            ackWaitSeconds: options.ackWait,
            ...(options.untilIdle === undefined ? {} : { idleMs: options.untilIdle * 1000 }),
            signal: controller.signal,
            onBatch: (report) => {
              if (!opts.json) {
                process.stderr.write(
                  `${report.messages} message(s): ${report.created} created, ${report.duplicate} duplicate, ${report.rejected} rejected\n`,
                );
              }
            },
          });
        });
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        emit(
          opts,
          summary,
          () =>
            `Buckets ${summary.buckets.join(', ')}: ${summary.messages} message(s) in ${summary.batches} batch(es), ` +
            `${summary.created} created, ${summary.duplicate} duplicate, ${summary.rejected} rejected` +
            (summary.rejected > 0 ? ` (kept on ${options.subject}.rejects.${options.member})` : '') +
            '.',
        );
      }),
    );
}
