/**
 * `npm run bundle [-- <out file>]`: writes the workflow code (workflows/index.ts and what it imports) as one
 * prebuilt bundle, dist/workflow-bundle.js by default. A worker started with HERALD_WORKFLOW_BUNDLE naming it
 * loads it as it is instead of running webpack at start-up; the Docker image is built this way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { PROJECT_ROOT } from '../dev/tools';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
export const DEFAULT_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

/** Bundles the workflows into outFile and returns its absolute path. */
export async function writeWorkflowBundle(outFile: string = DEFAULT_BUNDLE_PATH, options: { logger?: Logger } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: options.logger });
  const target = path.resolve(outFile);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, code);
  return target;
}

if (require.main === module) {
  writeWorkflowBundle(process.argv[2]).then(
    (file) => console.log(`workflow bundle written to ${file} (${fs.statSync(file).size} bytes); run workers with HERALD_WORKFLOW_BUNDLE=${file}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
