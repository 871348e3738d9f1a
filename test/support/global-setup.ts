// Jest globalSetup: runs once, in jest's own process, before any test file; the workers it then starts inherit its
// environment.
import { TEST_BUNDLE_VARIABLE, sharedWorkflowBundle } from './workflow-bundle';

export default async function globalSetup(): Promise<void> {
  process.env[TEST_BUNDLE_VARIABLE] ??= await sharedWorkflowBundle();
}
