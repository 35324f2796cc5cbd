export { bucketOf, DEFAULT_STREAM_LAYOUT, type StreamLayout } from './layout.ts';
export {
  ensureIngestStream,
  type NatsBatchReport,
  type NatsIngestOptions,
  type NatsIngestSummary,
  publishInteractions,
  runNatsIngest,
  subjectFor,
} from './nats.ts';
