/**
 * Segments (SPEC §8): saved, explainable filters over customer fields, value profiles and interaction
 * aggregates. It owns the filter language (a JSON tree of all / any / not and conditions), its
 * validation with JSON paths, its compilation to SQL over `customers c`, the explanation of one
 * member, the `segments` table and the materialised membership in `segment_members`, kept current for
 * the customers ingest wrote for. Live reads (count, members, why) take the access decision from the
 * caller as a field rule and SQL conditions (`SegmentReadAccess`): this domain must not decide who may
 * read what, audit, or import the governance layer that calls it; it reads interactions and value
 * profiles only through its own SQL.
 */

export {
  /** Removes the customers from every segment's membership (erasure). */
  eraseSegmentMemberships,
} from './segment.erasure.ts';
export {
  /** A segment to create. */
  CreateSegmentBody,
  /** An unsaved definition to count. */
  PreviewSegmentBody,
  /** A definition, described. */
  SegmentDefinitionSchema,
  /** Why a customer is (or is not) in a segment. */
  SegmentExplanationSchema,
  /** One member of a page. */
  SegmentMemberSchema,
  /** A segment as read. */
  SegmentSchema,
} from './segment.schema.ts';
export {
  /** Validates a definition and checks the reading purpose may read it. */
  assertReadable,
  /** How many customers match a definition now. */
  countSegmentDefinition,
  /** Creates a segment and materialises its membership. */
  createSegment,
  /** Deletes a segment and its membership. */
  deleteSegment,
  /** One condition of an explanation. */
  type ExplainedCondition,
  /** Why a customer is or is not in a definition. */
  explainSegmentMember,
  /** The field rule of a purpose under a taxonomy. */
  fieldRuleFor,
  /** A segment; 404 SEGMENT_NOT_FOUND. */
  getSegment,
  /** The materialised members of a segment. */
  listMaterialisedMembers,
  /** A page of the customers matching a definition now. */
  listSegmentMembers,
  /** The workspace's segments. */
  listSegments,
  /** The segments of a purpose whose materialised membership holds a customer. */
  listSegmentsOfCustomer,
  /** How materialised membership changed. */
  type MembershipChange,
  /** Re-materialises every segment of a workspace. */
  refreshAllSegments,
  /** Re-materialises one segment. */
  refreshSegment,
  /** Re-evaluates the given customers for every segment that events can change. */
  refreshSegmentsForCustomers,
  /** A saved segment. */
  type Segment,
  /** Why a customer is (or is not) in a segment. */
  type SegmentExplanation,
  /** A segment to create. */
  type SegmentInput,
  /** One member of a page before the per-customer decision. */
  type SegmentMemberRow,
  /** The access decision a live read applies. */
  type SegmentReadAccess,
} from './segment.service.ts';
export {
  /** A condition over an interaction aggregate. */
  type AggregateCondition,
  /** Refuses a definition that reads a category the purpose may never read (403 FILTER_NOT_ALLOWED). */
  assertConditionsAllowed,
  /** Validates a definition (400 SEGMENT_DEFINITION_INVALID with JSON paths). */
  assertSegmentDefinition,
  /** A condition. */
  type Condition,
  /** The data categories a condition reads. */
  categoriesOf,
  /** A definition as a boolean SQL expression over customers `c` and value profiles `vp`. */
  compileSegment,
  /** A condition over a customer or value field. */
  type FieldCondition,
  /** The field rule a compilation applies. */
  type FieldRuleOf,
  /** Whether a definition reads interaction aggregates or value fields. */
  isDynamic,
  /** Every condition of a definition with its JSON path. */
  listConditions,
  /** The comparison operators. */
  OPERATORS,
  /** Whether a definition reads the value profile. */
  readsValue,
  /** The fields a condition may read, with category and SQL. */
  SEGMENT_FIELDS,
  /** A node of a definition. */
  type SegmentNode,
} from './segment.ts';
