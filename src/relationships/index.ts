/**
 * Relationship intelligence (SPEC §7): what kind of relationship each customer has with the company,
 * with its reasons. It owns the dimensions (warmth, friction, intensity, tenure, regularity,
 * reciprocity, disclosure, commitment, voluntariness, drift; each 0..1 with confidence and evidence,
 * decayed with documented half-lives), the archetypes and their do/don't, the ordered rule table
 * (data a workspace tunes; validated whole, versioned), hysteresis, the high-demand and discretion
 * modifiers, and the tables `relationship_rule_tables`, `relationship_norms`, `relationship_profiles`
 * and `relationship_changes`. It reads interactions (and, until the facts domain holds them, the
 * customer's declared statements) only through its own SQL. It knows nothing of purposes: the governed
 * reads above it decide who may see a relationship, and the customer's intimacy level overrides it there.
 */

export {
  /** How rich each channel is for intensity. */
  CHANNEL_RICHNESS,
  /** A customer's dimensions and modifiers from their signals and declared statements. */
  computeDimensions,
  /** The intensity norm used before a workspace's first full recomputation. */
  DEFAULT_INTENSITY_NORM,
  /** The dimensions a rule table may read. */
  DIMENSIONS,
  /** Preference keys that ask for discretion. */
  DISCRETION_KEYS,
  /** A relationship dimension. */
  type Dimension,
  /** Every dimension of a customer. */
  type Dimensions,
  /** One dimension's value, confidence and evidence. */
  type DimensionValue,
  /** A declared statement as disclosure reads it. */
  type Disclosure,
  /** Half-life of each dimension's evidence, in days. */
  HALF_LIFE_DAYS,
  /** The modifiers beside an archetype. */
  type Modifiers,
  /** One interaction as the dimensions read it. */
  type Signal,
} from './dimensions.ts';
export {
  /** Confusion matrix and F1 of assigned archetypes against planted personas. */
  computePersonaRecovery,
  /** The confusion matrix as text. */
  formatPersonaRecovery,
  /** How well archetypes recover planted personas. */
  type PersonaRecovery,
} from './evaluate.ts';
export {
  /** Deletes the customers' relationship profiles and history (erasure). */
  eraseRelationshipsOfCustomers,
} from './relationship.erasure.ts';
export {
  /** What the given customers declared about themselves: the source of the disclosure dimension. */
  declaredDisclosures,
} from './relationship.repository.ts';
export {
  /** The active rule table with its version. */
  type ActiveRuleTable,
  /** Counts, value and movements per archetype. */
  computeRelationshipMix,
  /** A customer's stored relationship, or undefined. */
  findRelationship,
  /** A customer's stored relationship; 404 RELATIONSHIP_NOT_COMPUTED before the first computation. */
  getRelationship,
  /** The workspace's active rule table (version 0: the built-in default). */
  getRuleTable,
  /** What an incremental recomputation did. */
  type RecomputeReport,
  /** A customer's relationship with guidance and history. */
  type Relationship,
  /** The relationship mix of a workspace. */
  type RelationshipMix,
  /** Incremental recomputation of the given customers (the event subscriber, merges, unmerges). */
  recomputeRelationships,
  /** Full recomputation of a workspace (the scheduled job). */
  recomputeWorkspaceRelationships,
  /** Validates and stores a new rule table version; an invalid one is refused whole. */
  setRuleTable,
  /** What a full recomputation did. */
  type WorkspaceRecomputeReport,
} from './relationship.service.ts';
export {
  /** What staff should and should not do per archetype. */
  ARCHETYPE_GUIDANCE,
  /** The archetypes. */
  ARCHETYPES,
  /** An archetype. */
  type Archetype,
  /** One recomputation's step of the hysteresis. */
  applyHysteresis,
  /** Validates a rule table; RELATIONSHIP_RULES_INVALID with JSON paths otherwise. */
  assertRuleTable,
  /** The first matching rule's archetype and reasons. */
  computeArchetype,
  /** The rule table every workspace starts with. */
  DEFAULT_RULE_TABLE,
  /** The hysteresis state of a customer. */
  type LabelState,
  /** A reason of an assignment. */
  type Reason,
  /** One rule. */
  type Rule,
  /** A rule table. */
  type RuleTable,
} from './rules.ts';
