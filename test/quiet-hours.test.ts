// Quiet hours in IANA time zones: windows inside a day and over midnight, and daylight-saving days.
import { quietHoursEnd, zonedInstant } from '../domain';

const at = (iso: string) => Date.parse(iso);
const end = (iso: string, start: string, stop: string, tz: string) => quietHoursEnd(at(iso), { start, end: stop }, tz)?.toISOString() ?? null;

test('a window over midnight holds late evening and early morning, in the customer\'s zone', () => {
  // 23:30 in Paris (UTC+1 in winter): quiet until 07:00 local the next morning = 06:00 UTC.
  expect(end('2026-01-15T22:30:00Z', '22:00', '07:00', 'Europe/Paris')).toBe('2026-01-16T06:00:00.000Z');
  // 05:00 local: still quiet, until 07:00 the same day.
  expect(end('2026-01-16T04:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBe('2026-01-16T06:00:00.000Z');
  // 12:00 local: not quiet.
  expect(end('2026-01-16T11:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBeNull();
  // Exactly at the end: not quiet any more; exactly at the start: quiet.
  expect(end('2026-01-16T06:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBeNull();
  expect(end('2026-01-15T21:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBe('2026-01-16T06:00:00.000Z');
});

test('the same instant is quiet in one zone and not in another', () => {
  const instant = '2026-06-01T03:00:00Z'; // 05:00 in Paris, 23:00 in New York, 12:00 in Tokyo
  expect(end(instant, '22:00', '07:00', 'Europe/Paris')).toBe('2026-06-01T05:00:00.000Z');
  expect(end(instant, '22:00', '07:00', 'America/New_York')).toBe('2026-06-01T11:00:00.000Z');
  expect(end(instant, '22:00', '07:00', 'Asia/Tokyo')).toBeNull();
  // Half-hour zones too: 08:30 in Kolkata is inside 08:00–09:00.
  expect(end('2026-06-01T03:00:00Z', '08:00', '09:00', 'Asia/Kolkata')).toBe('2026-06-01T03:30:00.000Z');
});

test('a window inside the day', () => {
  expect(end('2026-06-01T12:30:00Z', '12:00', '14:00', 'UTC')).toBe('2026-06-01T14:00:00.000Z');
  expect(end('2026-06-01T14:30:00Z', '12:00', '14:00', 'UTC')).toBeNull();
  expect(end('2026-06-01T12:30:00Z', '12:00', '12:00', 'UTC')).toBeNull(); // empty window
});

test('the night the clocks go forward, the window still ends at 07:00 local (one hour less of UTC time)', () => {
  // Europe/Paris switches from UTC+1 to UTC+2 at 01:00 UTC on 2026-03-29.
  expect(end('2026-03-28T22:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBe('2026-03-29T05:00:00.000Z');
  // New York switches at 07:00 UTC on 2026-03-08 (02:00 local becomes 03:00).
  expect(end('2026-03-08T04:00:00Z', '22:00', '07:00', 'America/New_York')).toBe('2026-03-08T11:00:00.000Z');
});

test('the night the clocks go back, the window ends at 07:00 local (one hour more of UTC time)', () => {
  // Europe/Paris switches from UTC+2 to UTC+1 at 01:00 UTC on 2026-10-25.
  expect(end('2026-10-24T21:00:00Z', '22:00', '07:00', 'Europe/Paris')).toBe('2026-10-25T06:00:00.000Z');
});

test('a window ending inside the skipped hour ends when the clocks jump; one ending in the repeated hour ends the first time', () => {
  // 02:30 does not exist in Paris on 2026-03-29: the window ends at the jump, 03:00 local = 01:00 UTC.
  expect(end('2026-03-28T23:30:00Z', '00:00', '02:30', 'Europe/Paris')).toBe('2026-03-29T01:00:00.000Z');
  // 02:30 happens twice on 2026-10-25: first at 00:30 UTC (UTC+2).
  expect(end('2026-10-24T22:30:00Z', '00:00', '02:30', 'Europe/Paris')).toBe('2026-10-25T00:30:00.000Z');
  expect(new Date(zonedInstant(2026, 10, 25, 150, 'Europe/Paris')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
});
