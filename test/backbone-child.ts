import { openDatabase } from '../src/db/index.ts';
import { Dispatcher, JobRegistry } from '../src/jobs/index.ts';
import { probeSubscriber } from './backbone-probe.ts';

/**
 * A worker process for the kill -9 test: dispatches one workspace's events to the slow probe subscriber
 * in small batches, forever, until it is killed. Arguments: database URL, workspace id.
 */
const [url, workspaceId] = process.argv.slice(2);
if (!url || !workspaceId) throw new Error('usage: backbone-child.ts <database url> <workspace id>');
const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
const dispatcher = new Dispatcher(database.db, new JobRegistry().subscribe(probeSubscriber('child', 10)), {
  batchSize: 20,
});
process.stdout.write('ready\n');
for (;;) await dispatcher.drain([workspaceId]);
