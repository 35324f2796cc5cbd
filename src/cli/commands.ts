import type { Command } from 'commander';

/**
 * The command modules of the CLI and the top-level commands each registers, with the one-line summary
 * `cornerstore --help` lists. A module is imported only when one of its commands runs, so `--help`,
 * `--version` and a mistyped command load commander and nothing of the domains or the database.
 * A new top-level command is added here beside its module (test/cli-commands.test.ts checks the two agree).
 */
export interface CommandModule {
  commands: Readonly<Record<string, string>>;
  load: () => Promise<(program: Command) => void>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  {
    commands: {
      serve: 'Start the HTTP server (embedded database unless DATABASE_URL is set).',
      migrate: 'Apply pending database migrations and exit.',
      workspace: 'Manage workspaces (tenants).',
      key: 'Manage API keys.',
    },
    load: async () => (await import('./admin.ts')).registerAdminCommands,
  },
  {
    commands: { import: 'Import interactions or a workspace export from a file (streaming, resumable).' },
    load: async () => (await import('./import.ts')).registerImportCommands,
  },
  {
    commands: { ingest: 'Consume interactions from a NATS JetStream stream (acknowledged once stored).' },
    load: async () => (await import('./ingest.ts')).registerIngestCommands,
  },
  {
    commands: {
      export: 'Write a workspace as NDJSON for a purpose, every customer recorded as disclosed.',
      backup: 'Dump the embedded data directory to a file readable only by you.',
      restore: 'Load a file written by `cornerstore backup` into an empty data directory.',
    },
    load: async () => (await import('./export.ts')).registerExportCommands,
  },
  {
    commands: { demo: 'Create the demo workspace filled with a synthetic customer world.' },
    load: async () => (await import('./demo.ts')).registerDemoCommands,
  },
  {
    commands: { identity: 'Resolve which records are the same person: offline on files, or in a workspace.' },
    load: async () => (await import('./identity.ts')).registerIdentityCommands,
  },
  {
    commands: {
      audit: 'The tamper-evident audit log.',
      recipient: 'Recipients: the parties personal data may leave to.',
      privacy: 'Privacy requests with deadlines, the notification queue, suppression of erased identifiers.',
    },
    load: async () => (await import('./privacy.ts')).registerPrivacyCommands,
  },
  {
    commands: { value: 'Customer value: model fits, P(alive), CLV and RFM, from a file or a workspace.' },
    load: async () => (await import('./value.ts')).registerValueCommands,
  },
  {
    commands: { segment: 'Saved segments: filters over profile, value and interactions, with live counts.' },
    load: async () => (await import('./segments.ts')).registerSegmentCommands,
  },
  {
    commands: {
      webhooks: 'Webhook deliveries: send what is due, the log, replay, secret rotation, retention.',
    },
    load: async () => (await import('./webhooks.ts')).registerWebhookCommands,
  },
  {
    commands: { relationships: 'Relationship archetypes: the mix, recomputation and the rule table.' },
    load: async () => (await import('./relationships.ts')).registerRelationshipCommands,
  },
  {
    commands: { moments: 'Small moments: the playbook, its backtest over history, the scheduled scan.' },
    load: async () => (await import('./moments.ts')).registerMomentCommands,
  },
  {
    commands: { user: 'Staff users of the web workspace: create and list.' },
    load: async () => (await import('./users.ts')).registerUserCommands,
  },
  {
    commands: {
      recommend: 'Recommendations: train a workspace, or evaluate the models on a transactions file.',
    },
    load: async () => (await import('./recommend.ts')).registerRecommendCommands,
  },
  {
    commands: {
      worker: 'Run the event backbone: dispatch events to subscribers and run the scheduled jobs.',
      jobs: "The event backbone: the queue's state, dead letters and their retry.",
    },
    load: async () => (await import('./jobs.ts')).registerJobCommands,
  },
];

/** The top-level command `argv` (as in `process.argv`) runs, `help <command>` included; none for `--help`. */
export function findInvokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Registers every top-level command on `program`: the invoked one's module in full (imported now), the
 * others as a name and summary for the help. Summaries replace the modules' long descriptions in lists.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const invoked = findInvokedCommand(argv);
  for (const module of COMMAND_MODULES) {
    if (invoked !== undefined && Object.hasOwn(module.commands, invoked)) {
      (await module.load())(program);
      for (const command of program.commands) {
        const summary = module.commands[command.name()];
        if (summary !== undefined) command.summary(summary);
      }
    } else {
      for (const [name, summary] of Object.entries(module.commands)) program.command(name).summary(summary);
    }
  }
}
