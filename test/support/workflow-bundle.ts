// One workflow bundle for a whole test run. Every worker used to bundle workflows/ itself (webpack, 2-4 s of
// CPU): each stack's worker process, and every Worker.create of the time-skipping tests (22 in
// order-workflow.test.ts alone). The jest global setup builds it once, or reuses the one an earlier run built
// when none of the files webpack read for it has changed since, and names it in HERALD_TEST_WORKFLOW_BUNDLE;
// workers load it as a deployment's worker loads HERALD_WORKFLOW_BUNDLE.
import { cachedWorkflowBundle } from '../../workers/workflow-bundle-cache';
import { workflowSource, type WorkflowSource } from '../../workers/workflow-source';

export const TEST_BUNDLE_VARIABLE = 'HERALD_TEST_WORKFLOW_BUNDLE';

/** The workflow code a test's worker runs: the run's shared bundle, or workflows/ bundled by the worker itself. */
export function testWorkflows(): WorkflowSource {
  return workflowSource(process.env[TEST_BUNDLE_VARIABLE]);
}

/**
 * The path of a bundle of workflows/index.ts as the worker would build it, rebuilt when any file it was built from,
 * or the bundler, has changed: the cache a worker started without HERALD_WORKFLOW_BUNDLE uses too (one per checkout).
 */
export async function sharedWorkflowBundle(): Promise<string> {
  return cachedWorkflowBundle();
}
