import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  claimTaskGoverned,
  completeTaskGoverned,
  listDecisionsGoverned,
  listPlaybookVersionsGoverned,
  listTasksGoverned,
  readDecisionGoverned,
  readNextBestActions,
  readPlaybookGoverned,
  readTaskGoverned,
  recordFeedbackGoverned,
  runBacktestGoverned,
  setPlaybookGoverned,
  validatePlaybookGoverned,
} from '../../governance/index.ts';
import { invalid } from '../../shared/errors.ts';
import { type ApiDeps, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, PurposeQuery } from '../schemas.ts';

const Any = Type.Object({}, { additionalProperties: true });

const ActionSchema = Type.Object(
  {
    id: Type.String(),
    decisionId: Type.String(),
    customerId: Type.String(),
    action: Type.String(),
    purpose: Type.String({ description: 'The lane: service, care, relationship or commercial.' }),
    dataPurpose: Type.String({ description: 'The governance purpose its facts were used for.' }),
    channel: Type.String(),
    delivery: Type.String({ description: 'task (an agent does it), webhook (a messaging system) or note.' }),
    status: Type.String({ description: 'queued, claimed, done, sent or cancelled.' }),
    owner: Type.Union([Type.String(), Type.Null()]),
    dueAt: Type.String(),
    script: Type.Union([Type.String(), Type.Null()]),
    explanation: Type.String({ description: 'The one customer-facing sentence.' }),
    outcome: Type.Union([Type.String(), Type.Null()]),
    cancelledReason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);

const NextBestActions = Type.Object({
  customerId: Type.String(),
  purpose: Type.String(),
  actions: Type.Array(ActionSchema),
  suppressed: Type.Array(
    Type.Object({
      action: Type.String(),
      reason: Type.String(),
      removedBy: Type.String({ description: 'The rule or policy that removed it.' }),
      decisionId: Type.String(),
    }),
  ),
});

const DecisionSchema = Type.Object({
  id: Type.String(),
  momentId: Type.String(),
  customerId: Type.String(),
  playbookVersion: Type.Integer(),
  outcome: Type.String({ description: 'act, or nothing (a valid, recorded answer).' }),
  createdAt: Type.String(),
  trace: Type.Unknown({
    description:
      'The moment; every candidate with the stage and rule or policy that removed it, or its scores; the chosen ' +
      'actions with their explanation; the staff view (why this, why now, what we know and who told us).',
  }),
});

const TaskQuery = Type.Object(
  {
    ...PurposeParam,
    status: Type.Optional(
      Type.String({ maxLength: 100, description: 'Comma-separated; default queued,claimed.' }),
    ),
    owner: Type.Optional(Type.String({ maxLength: 200 })),
    delivery: Type.Optional(Type.String({ maxLength: 50, description: 'task (default), webhook, note.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const VersionQuery = Type.Object(
  { ...PurposeParam, version: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })) },
  { additionalProperties: false },
);

const LimitQuery = Type.Object(
  { ...PurposeParam, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) },
  { additionalProperties: false },
);

const PlaybookBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'The playbook as JSON, or `{"text": "..."}` holding it as JSON or YAML.',
  },
);

const BacktestBody = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    playbook: Type.Optional(
      Type.Unknown({ description: 'A candidate playbook; the active one when absent.' }),
    ),
    samples: Type.Optional(Type.Integer({ minimum: 0, maximum: 50 })),
  },
  { additionalProperties: false },
);

function date(value: string, field: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw invalid('DATE_INVALID', `${field} must be an ISO 8601 date-time.`, { field });
  return at;
}

/** Small moments: next-best actions, decisions and traces, tasks, feedback, playbooks and the backtest. */
export function momentRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/customers/:id/next-best-actions',
      {
        schema: {
          operationId: 'getNextBestActions',
          tags: ['moments'],
          summary: "A customer's next-best actions for a purpose, with explanations and what was suppressed.",
          description:
            'The open actions (queued or claimed) whose facts were used under the named purpose (service shows the ' +
            'service and care lanes, personalization the relationship lane, marketing the commercial one), each with its ' +
            'one-sentence customer-facing explanation and staff script, and `suppressed: [{action, reason, removedBy}]` from ' +
            'the decisions of the last 30 days. Name the purpose. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: NextBestActions, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readNextBestActions(scope, request.params.id)),
    );

    app.get(
      '/customers/:id/decisions',
      {
        schema: {
          operationId: 'listCustomerDecisions',
          tags: ['moments'],
          summary: "A customer's decisions with their traces, newest first.",
          params: IdParams,
          querystring: LimitQuery,
          response: { 200: Type.Object({ decisions: Type.Array(DecisionSchema) }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          decisions: await listDecisionsGoverned(scope, request.params.id, request.query.limit),
        })),
    );

    app.get(
      '/decisions/:id',
      {
        schema: {
          operationId: 'getDecision',
          tags: ['moments'],
          summary: 'One decision with its trace.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: DecisionSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readDecisionGoverned(scope, request.params.id)),
    );

    app.get(
      '/tasks',
      {
        schema: {
          operationId: 'listTasks',
          tags: ['moments'],
          summary: 'The agents’ queue: tasks by status, owner and due time.',
          description:
            'Tasks whose facts were used under the named purpose (service: the caring calls, recoveries, escalations), ' +
            'for customers the purpose may process, due first. Audited.',
          querystring: TaskQuery,
          response: { 200: Type.Object({ tasks: Type.Array(ActionSchema) }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          tasks: await listTasksGoverned(scope, {
            ...(request.query.status === undefined ? {} : { status: request.query.status }),
            ...(request.query.owner === undefined ? {} : { owner: request.query.owner }),
            ...(request.query.delivery === undefined ? {} : { delivery: request.query.delivery }),
            ...(request.query.limit === undefined ? {} : { limit: request.query.limit }),
          }),
        })),
    );

    app.get(
      '/tasks/:id',
      {
        schema: {
          operationId: 'getTask',
          tags: ['moments'],
          summary: 'One task or action (what a messaging system fetches after `moment_action_ready`).',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: ActionSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readTaskGoverned(scope, request.params.id)),
    );

    app.post(
      '/tasks/:id/claim',
      {
        schema: {
          operationId: 'claimTask',
          tags: ['moments'],
          summary: 'Claim a queued task (owner: the caller unless named).',
          description: '409 TASK_NOT_OPEN when the task is not queued. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Optional(
            Type.Object(
              { owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
              { additionalProperties: false },
            ),
          ),
          response: { 200: ActionSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'write', (scope) =>
          claimTaskGoverned(scope, request.params.id, request.body?.owner),
        ),
    );

    app.post(
      '/tasks/:id/complete',
      {
        schema: {
          operationId: 'completeTask',
          tags: ['moments'],
          summary: 'Complete a task, with the customer’s response as feedback.',
          description:
            'outcome (optional): accepted, ignored, rejected, too_personal or converted — recorded as feedback. 409 ' +
            'TASK_NOT_OPEN when already finished. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Optional(
            Type.Object(
              { outcome: Type.Optional(Type.String({ maxLength: 20 })) },
              { additionalProperties: false },
            ),
          ),
          response: { 200: ActionSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'write', (scope) =>
          completeTaskGoverned(scope, request.params.id, request.body?.outcome),
        ),
    );

    app.post(
      '/actions/:id/feedback',
      {
        schema: {
          operationId: 'recordActionFeedback',
          tags: ['moments'],
          summary: 'Feedback on an action: accepted, ignored, rejected, too_personal or converted.',
          description:
            'Updates the action’s propensity (a Beta posterior, once per action and outcome) and, through the contact ' +
            'policy, the customer’s suppressions: too_personal suppresses that action for the customer, repeated ' +
            'rejections too. A queued action rejected or found too personal is cancelled. Also accepted as an ' +
            '`action_feedback` interaction (properties.actionId, properties.outcome). Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Object({ outcome: Type.String({ maxLength: 20 }) }, { additionalProperties: false }),
          response: {
            200: Type.Object({
              action: ActionSchema,
              recorded: Type.Boolean({ description: 'False when this outcome was already recorded.' }),
              propensity: Type.Object({ successes: Type.Number(), failures: Type.Number() }),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'write', (scope) =>
          recordFeedbackGoverned(scope, request.params.id, request.body.outcome),
        ),
    );

    app.get(
      '/moments/playbook',
      {
        schema: {
          operationId: 'getPlaybook',
          tags: ['moments'],
          summary: 'The active playbook (or a given version; 0 is the built-in default).',
          querystring: VersionQuery,
          response: { 200: Any, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          readPlaybookGoverned(scope, request.query.version),
        ),
    );

    app.get(
      '/moments/playbook/versions',
      {
        schema: {
          operationId: 'listPlaybookVersions',
          tags: ['moments'],
          summary: 'Every version of the playbook, newest first, with who saved it and which is active.',
          querystring: PurposeQuery,
          response: { 200: Type.Object({ versions: Type.Array(Any) }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          versions: await listPlaybookVersionsGoverned(scope),
        })),
    );

    app.put(
      '/moments/playbook',
      {
        schema: {
          operationId: 'replacePlaybook',
          tags: ['moments'],
          summary: 'Save a playbook as the next version (JSON, or YAML in `text`).',
          description:
            'Validated whole: every problem is listed at its JSON path in 400 PLAYBOOK_INVALID (`playbook.rules[2].when.fact`), ' +
            'and the previous version stays active. Owners and admins. Audited.',
          querystring: PurposeQuery,
          body: PlaybookBody,
          response: { 200: Any, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'write', (scope) => setPlaybookGoverned(scope, request.body)),
    );

    app.post(
      '/moments/playbook/validate',
      {
        schema: {
          operationId: 'validatePlaybook',
          tags: ['moments'],
          summary: 'Validate a playbook without saving it.',
          description:
            '200 with the playbook and its defaults filled in, or 400 PLAYBOOK_INVALID with every JSON path.',
          querystring: PurposeQuery,
          body: PlaybookBody,
          response: { 200: Type.Object({ valid: Type.Boolean(), playbook: Any }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          valid: true,
          playbook: validatePlaybookGoverned(scope, request.body) as unknown as Record<string, unknown>,
        })),
    );

    app.post(
      '/moments/backtest',
      {
        schema: {
          operationId: 'runMomentsBacktest',
          tags: ['moments'],
          summary: 'Replay historical events through a playbook, without side effects.',
          description:
            'Counts per moment and action, suppression reasons, and sample traces (customers by order of appearance). ' +
            'Runs in one read-only transaction: nothing is written. Owners and admins; name the purpose (analytics).',
          querystring: PurposeQuery,
          body: BacktestBody,
          response: { 200: Any, ...errorResponses() },
        },
        config: { longRunning: true },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => {
          const report = await runBacktestGoverned(scope, {
            from: date(request.body.from, 'from'),
            to: date(request.body.to, 'to'),
            ...(request.body.playbook === undefined ? {} : { playbook: request.body.playbook }),
            ...(request.body.samples === undefined ? {} : { samples: request.body.samples }),
          });
          return report as unknown as Record<string, unknown>;
        }),
    );
  };
}
