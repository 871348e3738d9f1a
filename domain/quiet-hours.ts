// Quiet hours: a daily window of local wall-clock time ("22:00"–"07:00") in an IANA time zone during
// which non-critical messages wait. Pure functions on Intl, so the workflow can compute them from its
// own (deterministic) clock; correct across daylight-saving changes and windows that span midnight.

export interface QuietWindow {
  /** Local time the window starts, "HH:MM" (24 h). */
  start: string;
  /** Local time the window ends, "HH:MM"; before `start` when the window spans midnight. */
  end: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isQuietTime(value: string): boolean {
  return HHMM.test(value);
}

function minutesOf(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new Error(`not a time of day (HH:MM): ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: number, timeZone: string): WallClock {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, minutes: parts.hour! * 60 + parts.minute! };
}

/** The zone's offset from UTC at an instant, in minutes. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, 0, w.minutes);
  return Math.round((asUtc - Math.floor(instant / 60_000) * 60_000) / 60_000);
}

/**
 * The instant a local date and time happens in the zone. A time that happens twice (the hour the
 * clocks go back) gives the first; a time that never happens (the hour they skip) gives the moment
 * the clocks jump to, so a window "ending" inside the gap ends when the gap does.
 */
export function zonedInstant(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const naive = Date.UTC(year, month - 1, day, 0, minutes);
  const candidates = new Set<number>();
  for (const probe of [naive - 86_400_000, naive, naive + 86_400_000]) candidates.add(naive - offsetAt(probe, timeZone) * 60_000);
  const exact = [...candidates].filter((t) => {
    const w = wallClock(t, timeZone);
    return w.year === year && w.month === month && w.day === day && w.minutes === minutes;
  });
  if (exact.length > 0) return Math.min(...exact);
  // In a gap: the two offsets put the wanted time on either side of the jump; the jump is the answer.
  const before = naive - offsetAt(naive - 86_400_000, timeZone) * 60_000;
  const after = naive - offsetAt(naive + 86_400_000, timeZone) * 60_000;
  return transitionBetween(Math.min(before, after), Math.max(before, after), timeZone);
}

/** The instant the offset changes between two instants (binary search to the minute). */
function transitionBetween(lo: number, hi: number, timeZone: string): number {
  const initial = offsetAt(lo, timeZone);
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (offsetAt(mid, timeZone) === initial) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * When the quiet window that contains `at` ends, or null when `at` is outside quiet hours (or the
 * window is empty: start equal to end).
 */
export function quietHoursEnd(at: number, window: QuietWindow, timeZone: string): Date | null {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return null;
  const now = wallClock(at, timeZone);
  const spansMidnight = start > end;
  const inside = spansMidnight ? now.minutes >= start || now.minutes < end : now.minutes >= start && now.minutes < end;
  if (!inside) return null;
  // The end is today, unless the window started today and runs past midnight.
  let { year, month, day } = now;
  if (spansMidnight && now.minutes >= start) {
    const tomorrow = new Date(Date.UTC(year, month - 1, day + 1));
    year = tomorrow.getUTCFullYear();
    month = tomorrow.getUTCMonth() + 1;
    day = tomorrow.getUTCDate();
  }
  const endsAt = zonedInstant(year, month, day, end, timeZone);
  return new Date(Math.max(endsAt, at + 1));
}
