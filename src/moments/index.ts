/**
 * Small moments (SPEC §9): every event may raise a typed moment; each moment yields at most a few
 * explained actions, or none, that consent, intimacy, relationship and the contact policy allow. This
 * domain owns the playbooks (declarative, validated with JSON paths, versioned), detection, the
 * compiled rules indexed by moment type, the decision pipeline (filter, contact policy, arbitration,
 * explanation), and the tables `moment_playbooks`, `moments`, `moment_decisions`, `moment_actions`,
 * `moment_feedback` and `moment_propensities`. It reads interactions, value profiles, segment
 * memberships and remembered dates through its own SQL; the governed layer (governance/moments.ts)
 * gives it each customer's facts as the access decision allows them.
 */
export { DEFAULT_PLAYBOOK } from './default-playbook.ts';
export {
  DEFAULT_WINDOW_DAYS,
  type DetectedMoment,
  type DetectInput,
  detectFromInteraction,
  detectImportantDate,
  detectLapse,
  detectNameCorrected,
  LAPSE,
  MILESTONES,
  REPEATED_COMPLAINT,
  type Rhythm,
} from './detect.ts';
export {
  afterQuietHours,
  archetypeDont,
  type CandidateTrace,
  type ChosenAction,
  type CompiledPlaybook,
  type CompiledRule,
  type CustomerSnapshot,
  citable,
  compileCondition,
  compilePlaybook,
  type Decision,
  decide,
  type MomentInput,
  type Propensities,
  type PurposeView,
  renderExplanation,
  type Scores,
  type SnapshotFact,
} from './engine.ts';
export * as momentRepository from './moment.repository.ts';
export {
  ACTION_PURPOSES,
  type ActionDef,
  type ActionPurpose,
  assertPlaybook,
  type Condition,
  citedFacts,
  DEFAULT_DATA_PURPOSE,
  MOMENT_TYPES,
  type MomentType,
  type Playbook,
  type PlaybookContext,
  parsePlaybookText,
  type RuleDef,
  SPECIAL_LIFE_EVENTS,
} from './playbook.ts';
