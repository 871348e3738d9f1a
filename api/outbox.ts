// The relay's loop, shared by every outbox (order events, product events): hand stored rows on in the
// order they came, stop at the first that cannot go (Temporal is down: the next pass retries from there).
import type { Logger } from '../lib/logger';

export async function relayInOrder<Row extends { eventId: string }>(
  rows: Row[],
  send: (row: Row) => Promise<void>,
  logger: Logger,
  words: { failed: string; done: string },
): Promise<number> {
  let relayed = 0;
  for (const row of rows) {
    try {
      await send(row);
      relayed++;
    } catch (err) {
      logger.warn({ err, eventId: row.eventId }, words.failed);
      break;
    }
  }
  if (relayed) logger.info({ relayed }, words.done);
  return relayed;
}
