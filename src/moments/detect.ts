import type { MomentType, Playbook } from './playbook.ts';

/**
 * Moment detection (SPEC §9): which typed moments an event raises, and the window that deduplicates
 * them per customer. Pure: the caller counts what detection needs (purchases so far, complaints within
 * the window) and reads the interaction's few properties that matter.
 */

const DAY = 86_400_000;

/** An interaction as detection reads it: its type and the few properties a moment carries. */
export interface DetectInput {
  eventId: string;
  interactionType: string;
  channel: string | null;
  occurredAt: number;
  /** `event` of a life event, `subject` of a cancellation, `severity` of a complaint, `reason`. */
  properties: Readonly<Record<string, unknown>>;
  /** Purchases of the customer up to and including this one (for a purchase). */
  purchases: number;
  /** Complaints of the customer within the repeated-complaint window, this one included. */
  recentComplaints: number;
}

export interface DetectedMoment {
  type: MomentType;
  at: number;
  context: Record<string, unknown>;
  windowKey: string;
}

/** Complaints within this many days make a repeated complaint, from this many on. */
export const REPEATED_COMPLAINT = { days: 30, count: 3 } as const;
/** Purchase counts that are milestones. */
export const MILESTONES: readonly number[] = [10, 25, 50, 100, 250, 500, 1000];

/** The dedup window of each moment type by default (days; 0: every event is its own moment). */
export const DEFAULT_WINDOW_DAYS: Readonly<Record<MomentType, number>> = {
  cancellation_requested: 1,
  complaint_opened: 1,
  complaint_resolved: 1,
  repeated_complaint: 14,
  payment_failed: 3,
  delivery_failed: 0,
  life_event_declared: 30,
  important_date_upcoming: 300,
  lapse_detected: 60,
  milestone_reached: 36500,
  first_purchase: 36500,
  suggestion_submitted: 0,
  name_corrected: 1,
};

/** The window key of a moment: one moment per customer, type and key. */
export function windowKey(
  playbook: Pick<Playbook, 'moments'>,
  type: MomentType,
  at: number,
  eventId: string,
  discriminator = '',
): string {
  const days = playbook.moments[type]?.windowDays ?? DEFAULT_WINDOW_DAYS[type];
  const base = days <= 0 ? `e:${eventId}` : `w:${Math.floor(at / (days * DAY))}`;
  return discriminator === '' ? base : `${base}:${discriminator}`;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function addMoment(
  out: DetectedMoment[],
  playbook: Pick<Playbook, 'moments'>,
  input: DetectInput,
  type: MomentType,
  context: Record<string, unknown>,
  discriminator = '',
): void {
  context.interactionType = input.interactionType;
  if (input.channel) context.channel = input.channel;
  out.push({
    type,
    at: input.occurredAt,
    context,
    windowKey: windowKey(playbook, type, input.occurredAt, input.eventId, discriminator),
  });
}

/** The moments an interaction raises. */
export function detectFromInteraction(
  playbook: Pick<Playbook, 'moments'>,
  input: DetectInput,
): DetectedMoment[] {
  const out: DetectedMoment[] = [];
  const p = input.properties;
  switch (input.interactionType) {
    case 'cancellation_request':
      addMoment(
        out,
        playbook,
        input,
        'cancellation_requested',
        text(p.subject) ? { subject: text(p.subject) } : {},
      );
      break;
    case 'complaint':
      addMoment(
        out,
        playbook,
        input,
        'complaint_opened',
        text(p.severity) ? { severity: text(p.severity) } : {},
      );
      if (input.recentComplaints >= REPEATED_COMPLAINT.count)
        addMoment(out, playbook, input, 'repeated_complaint', { count: input.recentComplaints });
      break;
    case 'complaint_resolved':
      addMoment(out, playbook, input, 'complaint_resolved', {});
      break;
    case 'payment_failed':
      addMoment(out, playbook, input, 'payment_failed', text(p.reason) ? { reason: text(p.reason) } : {});
      break;
    case 'delivery_failed':
      addMoment(out, playbook, input, 'delivery_failed', text(p.reason) ? { reason: text(p.reason) } : {});
      break;
    case 'life_event_declared':
      if (text(p.event))
        addMoment(out, playbook, input, 'life_event_declared', { event: text(p.event) }, text(p.event));
      break;
    case 'suggestion':
      addMoment(out, playbook, input, 'suggestion_submitted', {});
      break;
    case 'purchase':
      if (input.purchases === 1) addMoment(out, playbook, input, 'first_purchase', { purchases: 1 });
      if (MILESTONES.includes(input.purchases))
        addMoment(
          out,
          playbook,
          input,
          'milestone_reached',
          { purchases: input.purchases },
          `n${input.purchases}`,
        );
      break;
  }
  return out;
}

/** The moment a corrected name raises. */
export function detectNameCorrected(
  playbook: Pick<Playbook, 'moments'>,
  eventId: string,
  at: number,
): DetectedMoment {
  return {
    type: 'name_corrected',
    at,
    context: {},
    windowKey: windowKey(playbook, 'name_corrected', at, eventId),
  };
}

/** A customer's purchase rhythm, for lapse detection. */
export interface Rhythm {
  purchases: number;
  firstAt: number;
  lastAt: number;
  pAlive: number | null;
  clv: number | null;
}

/** Lapse: a valued customer whose gap exceeds k× their own cadence, or whose P(alive) fell low. */
export const LAPSE = { k: 3, minPurchases: 3, pAlive: 0.3 } as const;

/** The lapse moment of a customer at `now`, if any. */
export function detectLapse(
  playbook: Pick<Playbook, 'moments'>,
  rhythm: Rhythm,
  now: number,
): DetectedMoment | undefined {
  if (rhythm.purchases < LAPSE.minPurchases) return undefined;
  const cadenceDays = (rhythm.lastAt - rhythm.firstAt) / DAY / (rhythm.purchases - 1);
  const gapDays = (now - rhythm.lastAt) / DAY;
  const byGap = cadenceDays > 0 && gapDays > LAPSE.k * cadenceDays;
  const byModel = rhythm.pAlive !== null && rhythm.pAlive < LAPSE.pAlive;
  if (!byGap && !byModel) return undefined;
  const context: Record<string, unknown> = {
    gapDays: Math.round(gapDays),
    cadenceDays: Math.round(cadenceDays * 10) / 10,
    purchases: rhythm.purchases,
    ...(rhythm.pAlive === null ? {} : { pAlive: Math.round(rhythm.pAlive * 1000) / 1000 }),
  };
  return {
    type: 'lapse_detected',
    at: now,
    context,
    windowKey: windowKey(playbook, 'lapse_detected', rhythm.lastAt, 'lapse', `last:${rhythm.lastAt}`),
  };
}

/** An important date ahead: only a date the customer gave and asked us to remember. */
export function detectImportantDate(
  date: { factId: string; month: number; day: number; label?: string },
  now: number,
  horizonDays = 7,
): DetectedMoment | undefined {
  const today = new Date(now);
  for (const year of [today.getUTCFullYear(), today.getUTCFullYear() + 1]) {
    const at = Date.UTC(year, date.month - 1, date.day);
    const days = Math.ceil((at - now) / DAY);
    if (days >= 0 && days <= horizonDays)
      return {
        type: 'important_date_upcoming',
        at: now,
        context: { daysUntil: days },
        windowKey: `y:${year}:${date.factId}`,
      };
  }
  return undefined;
}
