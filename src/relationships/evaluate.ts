import { ARCHETYPES } from './rules.ts';

/**
 * How well archetypes recover planted relationship personas (the synthetic world's ground truth): the
 * confusion matrix of planted persona against assigned archetype, and per-class and macro F1 over the
 * planted people. Classes are the personas planted; an archetype no persona is named after counts only
 * as a miss.
 */

/** A confusion matrix with per-class precision, recall and F1 and their macro average. */
export interface PersonaRecovery {
  planted: number;
  /** matrix[persona][archetype] = people. */
  matrix: Record<string, Record<string, number>>;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  macroF1: number;
}

/** Scores (persona, archetype) pairs: classes are the personas planted. */
export function computePersonaRecovery(
  pairs: readonly { persona: string; archetype: string }[],
): PersonaRecovery {
  const matrix: Record<string, Record<string, number>> = {};
  for (const { persona, archetype } of pairs) {
    matrix[persona] ??= {};
    const row = matrix[persona] as Record<string, number>;
    row[archetype] = (row[archetype] ?? 0) + 1;
  }
  const classes = Object.keys(matrix).sort();
  const perClass: PersonaRecovery['perClass'] = {};
  for (const c of classes) {
    const tp = matrix[c]?.[c] ?? 0;
    const support = Object.values(matrix[c] ?? {}).reduce((a, b) => a + b, 0);
    const predicted = classes.reduce((n, p) => n + (matrix[p]?.[c] ?? 0), 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[c] = { precision, recall, f1, support };
  }
  const macroF1 = classes.reduce((n, c) => n + (perClass[c]?.f1 ?? 0), 0) / Math.max(1, classes.length);
  return { planted: pairs.length, matrix, perClass, macroF1 };
}

/** The matrix as text: one row per planted persona, one column per archetype. */
export function formatPersonaRecovery(recovery: PersonaRecovery): string {
  const columns = ARCHETYPES.filter((a) => Object.values(recovery.matrix).some((row) => (row[a] ?? 0) > 0));
  const head = `${'planted \\ assigned'.padEnd(20)}${columns.map((c) => c.slice(0, 10).padStart(11)).join('')}      F1`;
  const rows = Object.entries(recovery.matrix).map(
    ([persona, row]) =>
      `${persona.padEnd(20)}${columns.map((c) => String(row[c] ?? 0).padStart(11)).join('')}  ${(recovery.perClass[persona]?.f1 ?? 0).toFixed(3)}`,
  );
  return [
    head,
    ...rows,
    `macro-F1 ${recovery.macroF1.toFixed(3)} over ${recovery.planted} planted people`,
  ].join('\n');
}
