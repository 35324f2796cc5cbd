import {
  categoryOfPropertyKey,
  maskFreeText,
  resolveCategory,
  scanPayload,
  type Taxonomy,
} from '../policy/index.ts';
import type { FieldProblem } from '../shared/errors.ts';
import { pointerToPath } from '../shared/json-path.ts';
import { SPECIAL_LIFE_EVENTS } from './interaction.schema.ts';
import type { InteractionInput, ItemError } from './interaction.ts';
import { categoryOfType } from './interaction.ts';

/**
 * Minimisation of an interaction before it is stored (SPEC §5.1): what the data policy says must not
 * be kept is refused (`reject`) or dropped and reported (`strip`); card numbers, national ids and IBANs
 * in any text are masked; special-category data is kept only when the customer declared it with
 * explicit consent for stated purposes; declared-only categories only when the customer declared them.
 */

/** The storage policy an ingest applies: the workspace's taxonomy and do-not-store mode. */
export interface StoragePolicy {
  taxonomy: Taxonomy;
  mode: 'reject' | 'strip';
}

/** What minimisation changed in an item: fields dropped and text masked, as JSON paths. */
export interface Minimised {
  dropped: { path: string; category: string; reason: string }[];
  masked: { path: string; kind: string }[];
}

type Outcome = { ok: true; input: InteractionInput; report: Minimised } | { ok: false; error: ItemError };

/** Removes the members at JSON pointers (relative to `root`) from a deep copy. */
function removeAt(root: Record<string, unknown>, pointers: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(root);
  for (const pointer of pointers) {
    const tokens = pointer
      .split('/')
      .slice(1)
      .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop();
    let node: unknown = copy;
    for (const token of tokens) node = (node as Record<string, unknown> | undefined)?.[token];
    if (last === undefined || typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete (node as Record<string, unknown>)[last];
  }
  return copy;
}

const path = (pointer: string, prefix: string) =>
  pointerToPath(pointer, prefix).replace(/^\(root\)$/, prefix);

/** A problem as one sentence: "properties.iban is …", ending with one full stop. */
function sentence(problem: FieldProblem | undefined): string {
  if (!problem) return 'The interaction carries data the policy does not allow.';
  const joiner = /^[A-Z]/.test(problem.message) ? ': ' : ' ';
  const text = `${problem.path}${joiner}${problem.message}`;
  return text.endsWith('.') ? text : `${text}.`;
}

function refusal(code: string, message: string, problems: FieldProblem[]): Outcome {
  return { ok: false, error: { code, message, details: { errors: problems } } };
}

/**
 * Applies the storage policy to one validated interaction. `prefix` is the item's path in its request
 * (`interactions[3]`), used in the paths of problems and reports.
 */
export function minimiseInteraction(input: InteractionInput, policy: StoragePolicy, prefix: string): Outcome {
  const { taxonomy, mode } = policy;
  const declared = input.initiatedBy === 'customer';
  const at = (pointer: string) => path(pointer, prefix);

  const typePolicy = resolveCategory(taxonomy, categoryOfType(input.type))?.policy;
  if ((typePolicy === 'declared_only' || typePolicy === 'special') && !declared) {
    return refusal(
      'POLICY_NOT_DECLARED',
      `A ${input.type} is kept only when the customer declared it: initiatedBy must be "customer".`,
      [{ path: at('/initiatedBy'), message: 'must be "customer" for this type' }],
    );
  }

  // A life event that is health data (illness) is special category whatever the type's own category.
  const lifeEvent = input.type === 'life_event_declared' ? input.properties.event : undefined;
  if (typeof lifeEvent === 'string' && SPECIAL_LIFE_EVENTS.includes(lifeEvent)) {
    if (!declared || input.declaredFor === null || input.declaredFor.length === 0) {
      return refusal(
        'POLICY_SPECIAL_CATEGORY',
        `A declared ${lifeEvent} is health data: kept only when the customer declares it with explicitConsentFor (the purposes they agree it serves).`,
        [{ path: at('/properties/event'), message: 'is special-category data: send explicitConsentFor' }],
      );
    }
  }

  const scan = scanPayload(input.properties, {
    mode,
    basePath: '/properties',
    classify: categoryOfPropertyKey,
    taxonomy,
  });
  const report: Minimised = { dropped: [], masked: [] };
  const refused: FieldProblem[] = [];
  for (const v of scan.violations) refused.push({ path: at(v.path), message: v.message });
  for (const h of scan.hashOnly) {
    const message = "is a government id, never stored in clear: send it in the customer's governmentIds";
    if (mode === 'reject') refused.push({ path: at(h.path), message });
    else report.dropped.push({ path: at(h.path), category: h.category, reason: 'POLICY_DO_NOT_STORE' });
  }
  if (refused.length > 0) {
    return refusal('POLICY_DO_NOT_STORE', `${refused[0]?.path} ${refused[0]?.message}.`, refused);
  }
  for (const d of scan.dropped)
    report.dropped.push({ path: at(d.path), category: d.category, reason: 'POLICY_DO_NOT_STORE' });

  // Special categories need the customer's own declaration with explicit consent for stated purposes;
  // declared-only ones the customer's declaration.
  const consented = declared && input.declaredFor !== null && input.declaredFor.length > 0;
  const unlawful = [
    ...scan.special
      .filter(() => !consented)
      .map((s) => ({
        ...s,
        code: 'POLICY_SPECIAL_CATEGORY',
        message:
          'is special-category data: kept only when the customer declares it (initiatedBy "customer") with explicitConsentFor',
      })),
    ...scan.declaredOnly
      .filter(() => !declared)
      .map((s) => ({
        ...s,
        code: 'POLICY_NOT_DECLARED',
        message: 'is kept only when the customer declared it (initiatedBy "customer")',
      })),
  ];
  let properties = scan.value as Record<string, unknown>;
  if (unlawful.length > 0) {
    if (mode === 'reject') {
      const first = unlawful[0];
      return refusal(
        first?.code ?? 'POLICY_SPECIAL_CATEGORY',
        sentence(first ? { path: at(first.path), message: first.message } : undefined),
        unlawful.map((u) => ({ path: at(u.path), message: u.message })),
      );
    }
    properties = removeAt(
      { properties },
      unlawful.map((u) => u.path),
    ).properties as Record<string, unknown>;
    for (const u of unlawful) report.dropped.push({ path: at(u.path), category: u.category, reason: u.code });
  }
  for (const m of scan.masked) report.masked.push({ path: at(m.path), kind: m.kind });

  let text = input.text;
  if (text !== null) {
    const masked = maskFreeText(text);
    text = masked.text;
    for (const m of masked.masked) report.masked.push({ path: at('/text'), kind: m.kind });
  }
  let lineItems = input.lineItems;
  if (lineItems !== null) {
    lineItems = lineItems.map((item, i) => {
      if (item.name === undefined) return item;
      const masked = maskFreeText(item.name);
      for (const m of masked.masked) report.masked.push({ path: at(`/lineItems/${i}/name`), kind: m.kind });
      return { ...item, name: masked.text };
    });
  }
  return { ok: true, input: { ...input, properties, text, lineItems }, report };
}
