import fs from 'node:fs';
import path from 'node:path';

/** Where a worker gets its workflow code: a prebuilt bundle, or the workflows bundled at start-up. */
export type WorkflowSource = { workflowBundle: { codePath: string } } | { workflowsPath: string };

/**
 * The bundle that HERALD_WORKFLOW_BUNDLE names (the Docker image's, made by `npm run bundle`), so that a worker
 * starts without running webpack; otherwise workflows/index.ts, bundled when the worker is created.
 */
export function workflowSource(bundle: string | undefined): WorkflowSource {
  if (!bundle) return { workflowsPath: require.resolve('../workflows') };
  const codePath = path.resolve(bundle);
  // A named bundle that is missing is a broken deployment: say so rather than quietly bundle again.
  if (!fs.statSync(codePath, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`HERALD_WORKFLOW_BUNDLE names ${codePath}, which is not a file; build it with npm run bundle`);
  }
  return { workflowBundle: { codePath } };
}
