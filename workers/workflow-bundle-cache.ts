// The workflow bundle of this checkout, built once and reused while none of its inputs changes. A worker started
// without HERALD_WORKFLOW_BUNDLE used to run webpack in its own process: a few seconds of CPU and about 175 MiB of
// peak memory that the process kept for its whole life. Now webpack runs in a child process that exits (only when
// the cached bundle is stale), and the worker loads the bundle as a deployment loads HERALD_WORKFLOW_BUNDLE.
// The jest global setup uses the same cache, so tests and `npm start` share one bundle.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@temporalio/worker';

const PROJECT_ROOT = path.resolve(__dirname, '..');

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

/**
 * One cache folder per checkout, inside the checkout's own .tools (not the shared temp dir: a worker runs the code it
 * finds there, and another local user could have put a folder of that predictable name in /tmp first). Named by the
 * checkout's path as well, for worktrees that share one .tools through a link.
 */
export function bundleCacheDir(): string {
  return path.join(PROJECT_ROOT, '.tools', `workflow-bundle-${sha256(PROJECT_ROOT).slice(0, 12)}`);
}

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

/** The cached bundle when it is still what workflows/ would bundle to, else undefined. Cheap: hashes, no webpack. */
export function freshCachedBundle(dir = bundleCacheDir()): string | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const bundleFile = path.join(dir, manifest.bundle);
    if (fs.existsSync(bundleFile) && upToDate(manifest)) return bundleFile;
  } catch {
    // none yet, or unreadable: build
  }
  return undefined;
}

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The path of a bundle of workflows/index.ts as a worker would build it (same SDK bundler, same options), rebuilt
 * in this process when any file it was built from, or the bundler, has changed.
 */
export async function cachedWorkflowBundle(dir = bundleCacheDir()): Promise<string> {
  const fresh = freshCachedBundle(dir);
  if (fresh) return fresh;
  const startedAt = Date.now();
  let files: string[] = [];
  let missing: string[] = [];
  // Loaded here only: a process that finds the bundle fresh never loads the SDK's bundler.
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
            compiler.hooks.afterCompile.tap('herald-bundle-inputs', (compilation) => {
              files = [...compilation.fileDependencies];
              missing = [...compilation.missingDependencies];
            });
          },
        },
      ],
    }),
  });
  if (files.length === 0) throw new Error('the workflow bundler reported no input files: cannot tell when the cached bundle is stale');
  const bundle = `workflow-bundle-${sha256(code).slice(0, 16)}.js`;
  const bundleFile = path.join(dir, bundle);
  const manifestFile = path.join(dir, 'manifest.json');
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

/**
 * The cached bundle, built by a child process when stale: webpack's memory goes back to the system when the child
 * exits instead of staying in the worker's peak for good.
 */
export async function cachedWorkflowBundleOutOfProcess(): Promise<string> {
  const fresh = freshCachedBundle();
  if (fresh) return fresh;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', __filename], { cwd: PROJECT_ROOT, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`bundling workflows/ failed: ${errOut || err.message}`));
      else resolve(out);
    });
  });
  const file = stdout.trim().split('\n').pop() ?? '';
  if (!fs.existsSync(file)) throw new Error(`bundling workflows/ printed no bundle file (${stdout.trim()})`);
  return file;
}

if (require.main === module) {
  cachedWorkflowBundle().then(
    (file) => process.stdout.write(`${file}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
