import { cpuUsage } from 'node:process';
import { sql } from 'kysely';
import { type Database, inWorkspace, migrateToLatest } from '../src/db/index.ts';
import { FACT_KEYS } from '../src/facts/index.ts';
import { runBacktestGoverned, withAccess } from '../src/governance/index.ts';
import {
  assertPlaybook,
  type CompiledPlaybook,
  type CustomerSnapshot,
  compileCondition,
  compilePlaybook,
  DEFAULT_PLAYBOOK,
  decide,
  detectFromInteraction,
  MOMENT_TYPES,
  type Playbook,
  type PurposeView,
  type SnapshotFact,
} from '../src/moments/index.ts';
import { createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import { loadRelationshipWorld } from './relationships.ts';
import type { Figure } from './report.ts';

/**
 * The small-moments targets of issue 18.
 *
 * Engine, in process, from prepared customer snapshots: 1,000 active rules over 50 moment types (20
 * rules a type; the product detects 13 types, so the other 37 are synthetic names, which is all the
 * index sees), 200 actions across the four lanes, conditions over facts, dimensions, archetype, value
 * and the moment's context. Each event goes through detection (of a real interaction shape), the rules
 * subscribed to its type, the consent and intimacy filter, the contact policy, arbitration and the
 * explanation, with a full trace. The baseline, in the same run and process: the same compiled
 * conditions as bare closures in a Map by type, returning the first rule that holds (no filter, no
 * policy, no trace). Reported as events per second of CPU time and as the engine's share of the
 * baseline's rate.
 *
 * Backtest: the small-scale world's interactions (1M; 50,000 for a smoke run) replayed through the
 * default playbook in one read-only transaction.
 */

const TYPES = 50;
const RULES = 1_000;
const ACTIONS = 200;
const CUSTOMERS = 2_000;
const EVENTS = {
  smoke: Number(process.env.MOMENTS_BENCH_EVENTS ?? 100_000),
  small: 400_000,
  large: 400_000,
} as const;

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const typeName = (i: number): string =>
  (i < MOMENT_TYPES.length ? MOMENT_TYPES[i] : `synthetic_${i}`) as string;

/** A playbook of 1,000 rules over 50 types, validated (with the synthetic types allowed) and compiled. */
export function benchPlaybook(): { playbook: Playbook; compiled: CompiledPlaybook } {
  const random = rng(7);
  const lanes = ['service', 'care', 'relationship', 'commercial'] as const;
  const actions = Array.from({ length: ACTIONS }, (_, i) => ({
    id: `a${i}`,
    purpose: lanes[i % 4],
    channels: ['email', 'phone', 'sms'].slice(0, 1 + (i % 3)),
    requiredFacts: i % 5 === 0 ? ['interest'] : [],
    minIntimacy: i % 4 === 1 ? 3 : 1,
    value: 1 + (i % 7),
    cooldownDays: i % 3 === 0 ? 30 : 0,
    human: i % 4 === 1,
    tags: i % 10 === 3 ? ['discount'] : [],
    explanation: i % 5 === 0 ? 'Because you like {fact.interest}.' : 'About {moment}.',
  }));
  const condition = (k: number) => {
    switch (k % 5) {
      case 0:
        return { fact: 'interest', op: 'exists' };
      case 1:
        return { dimension: 'warmth', op: 'gte', value: Math.round(random() * 50) / 100 };
      case 2:
        return {
          any: [{ archetype: ['buddy', 'best_friend'] }, { profile: 'purchases', op: 'gte', value: 3 }],
        };
      case 3:
        return {
          all: [{ context: 'severity', op: 'ne', value: 'low' }, { not: { fact: 'dislike', op: 'exists' } }],
        };
      default:
        return { profile: 'clv', op: 'gt', value: Math.round(random() * 300) };
    }
  };
  const rules = Array.from({ length: RULES }, (_, i) => ({
    id: `r${i}`,
    moment: MOMENT_TYPES[i % MOMENT_TYPES.length],
    action: `a${Math.floor(random() * ACTIONS)}`,
    when: condition(i),
  }));
  const ctx = {
    purposes: ['service', 'personalization', 'marketing'],
    factKeys: FACT_KEYS.map((k) => k.key),
  };
  const playbook = assertPlaybook(
    {
      name: 'bench',
      maxActions: 3,
      distress: DEFAULT_PLAYBOOK.distress,
      contactPolicy: DEFAULT_PLAYBOOK.contactPolicy,
      actions,
      rules,
    },
    ctx,
  );
  // Spread the rules over 50 types: validation knows the 13 built-in ones, the index any name.
  playbook.rules = playbook.rules.map((r, i) => ({ ...r, moment: typeName(i % TYPES) as never }));
  return { playbook, compiled: compilePlaybook(playbook, 1) };
}

function snapshots(count: number): CustomerSnapshot[] {
  const random = rng(11);
  const archetypes = [
    'buddy',
    'best_friend',
    'newcomer',
    'adversary',
    'basic_exchange',
    'drifting_ex_friend',
  ];
  return Array.from({ length: count }, (_, i) => {
    const facts = new Map<string, SnapshotFact[]>();
    if (random() < 0.6)
      facts.set('interest', [
        {
          key: 'interest',
          value: 'cycling',
          sourceKind: 'declared',
          source: 'portal',
          category: 'personal.interest',
        },
      ]);
    if (random() < 0.2)
      facts.set('dislike', [
        {
          key: 'dislike',
          value: 'calls',
          sourceKind: 'declared',
          source: 'store',
          category: 'personal.dislike',
        },
      ]);
    const view: PurposeView = { open: true, reason: null, facts, withheld: new Map() };
    const closed: PurposeView = { open: false, reason: 'no consent', facts: new Map(), withheld: new Map() };
    const now = Date.now();
    return {
      customerId: `c${i}`,
      intimacy: 1 + Math.floor(random() * 4),
      purposes: new Map([
        ['service', view],
        ['personalization', random() < 0.5 ? view : closed],
        ['marketing', random() < 0.4 ? view : closed],
      ]),
      archetype: archetypes[i % archetypes.length] ?? null,
      archetypeUsable: random() < 0.5,
      dimensions: { warmth: random(), friction: random() },
      value: { clv: random() * 400, purchases: Math.floor(random() * 12), pAlive: random() },
      segments: new Set(),
      recentMoments: random() < 0.2 ? [{ type: 'complaint_opened', at: now - 3 * 86_400_000 }] : [],
      actions: Array.from({ length: Math.floor(random() * 4) }, (_, k) => ({
        action: `a${k * 7}`,
        purpose: 'service',
        channel: 'email',
        at: now - k * 86_400_000,
      })),
      feedback: [],
    };
  });
}

function cpuSeconds(fn: () => void): number {
  const start = cpuUsage();
  fn();
  const used = cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** The engine against bare indexed closures, in the same process and run. */
export function benchEngine(scaleName: 'smoke' | 'small' | 'large'): Figure[] {
  const { compiled } = benchPlaybook();
  const snaps = snapshots(CUSTOMERS);
  const events = EVENTS[scaleName];
  const random = rng(3);
  const work = Array.from({ length: events }, () => ({
    snap: snaps[Math.floor(random() * snaps.length)] as CustomerSnapshot,
    type: typeName(Math.floor(random() * TYPES)),
    severity: random() < 0.3 ? 'low' : 'high',
  }));
  const now = Date.now();
  const noPropensity = () => undefined;
  const kinds = ['complaint', 'purchase', 'cancellation_request', 'delivery_failed', 'suggestion'];
  // The baseline: the same conditions compiled to closures, by type, first match wins.
  const bare = new Map<
    string,
    ((s: CustomerSnapshot, m: { type: string; at: number; context: Record<string, unknown> }) => boolean)[]
  >();
  for (const [type, rules] of compiled.byMoment)
    bare.set(
      type,
      rules.map((r) => {
        const test = r.rule.when === null ? () => true : compileCondition(r.rule.when);
        return (s, m) => test(s, m, (s.purposes.get('service') as PurposeView).facts);
      }),
    );
  let chosen = 0;
  let matched = 0;
  const engine = () => {
    for (const [i, w] of work.entries()) {
      const detected = detectFromInteraction(compiled.playbook, {
        eventId: `e${i}`,
        interactionType: kinds[i % kinds.length] as string,
        channel: 'phone',
        occurredAt: now,
        properties: { severity: w.severity },
        purchases: 2,
        recentComplaints: 1,
      });
      const context = detected[0]?.context ?? {};
      const d = decide(compiled, w.snap, { type: w.type, at: now, context }, now, noPropensity);
      chosen += d.chosen.length;
    }
  };
  const baseline = () => {
    for (const w of work) {
      const m = { type: w.type, at: now, context: { severity: w.severity } };
      for (const test of bare.get(w.type) ?? [])
        if (test(w.snap, m)) {
          matched += 1;
          break;
        }
    }
  };
  // Warm both, then measure each twice, interleaved, and keep the better run of each.
  engine();
  baseline();
  const e1 = cpuSeconds(engine);
  const b1 = cpuSeconds(baseline);
  const e2 = cpuSeconds(engine);
  const b2 = cpuSeconds(baseline);
  const engineRate = events / Math.min(e1, e2);
  const bareRate = events / Math.min(b1, b2);
  return [
    {
      workload: 'moments: engine events/s (1,000 rules, 50 moment types, one core)',
      value: Math.round(engineRate),
      unit: 'events/s CPU',
      detail:
        `${events.toLocaleString('en-US')} events over ${CUSTOMERS} prepared snapshots: detection, indexed rules, ` +
        `filter, contact policy, arbitration, explanation and trace; ${Math.round(chosen / 6)} actions chosen a pass. ` +
        `Bare indexed closures (first match, nothing else): ${Math.round(bareRate).toLocaleString('en-US')} events/s ` +
        `(${Math.round(matched / 3)} matches a pass)`,
      ratio: engineRate / bareRate,
      target: '≥ 100,000 events/s; ratio to bare closures reported',
      peakRssMiB: peakRssMiB(),
    },
  ];
}

const BACKTEST_SCALE = {
  smoke: { customers: 10_000, interactions: 50_000 },
  small: { customers: 100_000, interactions: 1_000_000 },
  large: { customers: 100_000, interactions: 1_000_000 },
} as const;

/** The backtest of the default playbook over the small-scale world's interactions. */
export async function benchBacktest(
  database: Database,
  scaleName: 'smoke' | 'small' | 'large',
): Promise<Figure[]> {
  const scale = BACKTEST_SCALE[scaleName];
  await migrateToLatest(database.db);
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-moments-${Date.now().toString(36)}`,
  });
  const loaded = await timed(() => loadRelationshipWorld(database, workspace.id, scale));
  process.stdout.write(
    `moments: loaded ${loaded.value.interactions.toLocaleString('en-US')} interactions in ${loaded.seconds.toFixed(1)} s\n`,
  );
  const before = await inWorkspace(database.db, workspace.id, async (tx) =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM moments`.execute(tx)).rows[0]?.n),
  );
  const cpu = cpuUsage();
  const run = await timed(() =>
    withAccess(
      database.db,
      operatorActor(workspace.id),
      { purpose: 'analytics', requestId: null, mode: 'read' },
      (scope) =>
        runBacktestGoverned(scope, {
          from: new Date(0),
          to: new Date(loaded.value.endMs + 86_400_000),
          samples: 0,
        }),
    ),
  );
  const used = cpuUsage(cpu);
  const after = await inWorkspace(database.db, workspace.id, async (tx) =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM moments`.execute(tx)).rows[0]?.n),
  );
  const r = run.value;
  const decisions = r.decisions.act + r.decisions.nothing;
  return [
    {
      workload: 'moments: backtest of the default playbook',
      value: Number(run.seconds.toFixed(1)),
      unit: 's',
      detail:
        `${r.interactions.toLocaleString('en-US')} interactions of ${r.customers.toLocaleString('en-US')} customers with a moment; ` +
        `${decisions.toLocaleString('en-US')} decisions (${r.decisions.act} acting); ${((used.user + used.system) / 1e6).toFixed(1)} s CPU in ` +
        `this process; moments table ${before} rows before and ${after} after`,
      target: '< 60 s for 1M interactions',
      peakRssMiB: peakRssMiB(),
    },
  ];
}
