/**
 * The demo: fills a workspace (`demo` by default) with the synthetic world through the real write
 * paths — each source system's record of a person created in the customers domain, then every
 * interaction through the interactions domain's batch ingest — keeps the workspace's admin key in
 * `<dataDir>/demo-key`, and picks customers worth looking at. It owns no table and must not write one
 * itself (its repository only reads, and refreshes planner statistics), import adapters (api/, cli/), or
 * open a transaction inside another; running it again with the same seed stores nothing new.
 */

export {
  /** What a demo run needs: size, seed, data directory, server URL, progress callback. */
  type RunDemoOptions,
  /** Creates (or finds) the demo workspace, loads the world idempotently and picks highlights. */
  runDemo,
} from './demo.service.ts';
export {
  /** People in the demo world unless asked otherwise (2,000). */
  DEFAULT_DEMO_CUSTOMERS,
  /** The demo world's seed unless asked otherwise. */
  DEFAULT_DEMO_SEED,
  /** The file in the data directory that keeps the demo workspace's admin key. */
  DEMO_KEY_FILE,
  /** The phases of a run that take time, in order. */
  DEMO_PHASES,
  /** The workspace the demo fills. */
  DEMO_WORKSPACE,
  /** Counts of customers and interactions. */
  type DemoCounts,
  /** A phase of a run that takes time. */
  type DemoPhase,
  /** One finished phase of a run (workspace, customers, interactions, identity, value, highlights). */
  type DemoProgress,
  /** How far a phase has got. */
  type DemoStep,
  /** What a demo run did: workspace, key, URL, counts created and existing, highlights. */
  type DemoSummary,
  /** A customer worth looking at, why, and its API addresses. */
  type Highlight,
  /** Why a customer is worth looking at. */
  type HighlightKind,
  /** Reads a `--customers` value (whole numbers only); throws DEMO_OPTIONS_INVALID. */
  parseCustomerCount,
  /** Reads an `--as-of` date (YYYY-MM-DD, not after today); throws DEMO_OPTIONS_INVALID. */
  parseDemoAsOf,
  /** Splits a single name field (`Mrs Ann B. Lee`, `LEE, ANN`) into given and family name. */
  splitFullName,
  /** A source record as the customer input its system would send. */
  toCustomerInput,
} from './demo.ts';
export {
  /** The demo workspace scored against its world's truth: pairwise, mixed clusters, misplaced events. */
  type DemoIdentityScores,
  /** Scores a demo workspace's customers and interactions against the generator's ground truth. */
  evaluateDemoIdentity,
} from './evaluate.service.ts';
export {
  /** What the privacy story did, step by step. */
  type PrivacyStory,
  /** The misspelled name that travels, corrected everywhere, then erased and suppressed. */
  runPrivacyStory,
} from './privacy-story.service.ts';
