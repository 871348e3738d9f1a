// One workflow bundle for a whole test run. Every worker used to bundle workflows/ itself (webpack, 2-4 s of
// CPU): each stack's worker process, and every Worker.create of the time-skipping tests (22 in
// order-workflow.test.ts alone). The jest global setup builds it once, or reuses the one an earlier run built
// when none of the files webpack read for it has changed since, and names it in HERALD_TEST_WORKFLOW_BUNDLE;
// workers load it as a deployment's worker loads HERALD_WORKFLOW_BUNDLE.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../dev/tools';
import { workflowSource, type WorkflowSource } from '../../workers/workflow-source';

export const TEST_BUNDLE_VARIABLE = 'HERALD_TEST_WORKFLOW_BUNDLE';

/** The workflow code a test's worker runs: the run's shared bundle, or workflows/ bundled by the worker itself. */
export function testWorkflows(): WorkflowSource {
  return workflowSource(process.env[TEST_BUNDLE_VARIABLE]);
}

/** What a bundle was built from: every file webpack read (with its hash) and every path it looked for and did not find. */
interface Manifest {
  /** The bundle's file name in the cache folder: named by its content, so a run never sees it replaced under it. */
  bundle: string;
  toolchain: string;
  files: Record<string, string>;
  missing: string[];
}

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const hashOf = (file: string) => {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
};

/** The bundler itself: the SDK version, its webpack setup and loaders. A change of any of them rebuilds. */
function toolchain(): string {
  const parts = ['@temporalio/worker/package.json', '@temporalio/worker/lib/workflow/bundler.js', 'webpack/package.json', 'swc-loader/package.json', '@swc/core/package.json'];
  return sha256(parts.map((p) => `${p}:${hashOf(require.resolve(p, { paths: [PROJECT_ROOT] })) ?? 'none'}`).join('\n'));
}

function upToDate(manifest: Manifest): boolean {
  if (manifest.toolchain !== toolchain()) return false;
  for (const [file, hash] of Object.entries(manifest.files)) if (hashOf(file) !== hash) return false;
  // A file that now exists where webpack looked for one could change what an import resolves to.
  return manifest.missing.every((file) => !fs.existsSync(file));
}

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The path of a bundle of workflows/index.ts as the worker would build it (same SDK bundler, same options),
 * rebuilt when any file it was built from, or the bundler, has changed. Kept in the temp dir, one per checkout.
 */
export async function sharedWorkflowBundle(): Promise<string> {
  const dir = path.join(os.tmpdir(), `herald-workflow-bundle-${sha256(PROJECT_ROOT).slice(0, 12)}`);
  const manifestFile = path.join(dir, 'manifest.json');
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
    const bundleFile = path.join(dir, manifest.bundle);
    if (fs.existsSync(bundleFile) && upToDate(manifest)) return bundleFile;
  } catch {
    // none yet, or unreadable: build
  }

  const startedAt = Date.now();
  let files: string[] = [];
  let missing: string[] = [];
  // Loaded here only: the tests that merely read the variable need not load the SDK's bundler.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(PROJECT_ROOT, 'workflows', 'index.ts'),
    logger: quiet,
    // Only records what the compilation read; the bundle is the same as without it.
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.afterCompile.tap('herald-test-bundle-inputs', (compilation) => {
              files = [...compilation.fileDependencies];
              missing = [...compilation.missingDependencies];
            });
          },
        },
      ],
    }),
  });
  if (files.length === 0) throw new Error('the workflow bundler reported no input files: cannot tell when the shared bundle is stale');
  const bundle = `workflow-bundle-${sha256(code).slice(0, 16)}.js`;
  const bundleFile = path.join(dir, bundle);
  const manifest: Manifest = {
    bundle,
    toolchain: toolchain(),
    // The generated entry point exists only in the bundler's memory; it follows from the options above.
    files: Object.fromEntries(files.flatMap((file) => (fs.existsSync(file) && fs.statSync(file).isFile() ? [[file, hashOf(file)!]] : []))),
    missing: missing.filter((file) => path.isAbsolute(file) && !fs.existsSync(file)),
  };
  fs.mkdirSync(dir, { recursive: true });
  // A file edited while webpack ran may be in the bundle as it was before: use the bundle for this run, keep no manifest.
  const editedMeanwhile = Object.keys(manifest.files).some((file) => fs.statSync(file).mtimeMs >= startedAt);
  // Written aside and renamed, so that a run started meanwhile reads a whole bundle or none.
  const suffix = `${process.pid}-${Date.now()}`;
  fs.writeFileSync(`${bundleFile}.${suffix}`, code);
  fs.renameSync(`${bundleFile}.${suffix}`, bundleFile);
  // Earlier bundles of this checkout, unless a run may still be starting workers from one (a day is plenty).
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (name.startsWith('workflow-bundle-') && name !== bundle && Date.now() - fs.statSync(file).mtimeMs > 86_400_000) fs.rmSync(file, { force: true });
  }
  if (editedMeanwhile) fs.rmSync(manifestFile, { force: true });
  else {
    fs.writeFileSync(`${manifestFile}.${suffix}`, JSON.stringify(manifest));
    fs.renameSync(`${manifestFile}.${suffix}`, manifestFile);
  }
  return bundleFile;
}
