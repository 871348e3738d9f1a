// Replays recorded histories of the order workflow against the current code: a change that would
// break running orders (non-determinism) fails here before a deploy does. Fixtures are recorded by
// `RECORD_HISTORIES=1 npx jest test/order-workflow.test.ts`; re-record only for an intended, versioned change.
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { testWorkflows } from './support/workflow-bundle';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const dir = path.join(__dirname, 'histories');
// Stored as binary protobuf (temporal.api.history.v1.History).
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));

test('there are recorded histories to replay', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(2);
});

test.each(fixtures)('%s replays deterministically', async (file) => {
  const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(dir, file)));
  expect(history.events.length).toBeGreaterThan(10);
  await Worker.runReplayHistory({ ...testWorkflows(), replayName: file }, history);
});
