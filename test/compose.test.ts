// The Docker topology, checked without a Docker engine (there is none in CI): docker-compose.yml must be
// a valid Compose file, reference only images and build contexts that exist, and hold the services the
// production topology needs, with health checks. And the Dockerfile's prebuilt workflow bundle must be one
// that a Worker loads and runs.
//
// test/contract/compose-spec.json is the Compose Specification's JSON schema (compose-spec/compose-spec,
// schema/compose-spec.json, Apache-2.0), byte for byte as the dclint 3.1.0 npm package ships it in
// schemas/compose.schema.json (dclint copies it from the compose-spec repository). To refresh it, take the
// newer file from either place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { testServerPath } from '../dev/tools';
import { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';
import { workflowSource } from '../workers/workflow-source';

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

/**
 * The images the compose file may use, with the tags known to be published on Docker Hub. Nothing here can
 * ask Docker Hub, so a new image or tag goes into this list by hand, from the image's page or from
 * Temporal's own compose samples (temporalio/samples-server, compose/.env), which pin the Temporal ones.
 * temporalio/auto-setup is left out on purpose: Temporal deprecated it and no longer publishes it.
 */
const KNOWN_IMAGES: Record<string, { tags: RegExp; note: string }> = {
  postgres: { tags: /^(1[3-8])(\.\d+)?(-(bookworm|trixie|alpine))?$/, note: 'the official PostgreSQL image, majors 13 to 18' },
  'temporalio/server': { tags: /^1\.31\.0$/, note: 'Temporal server (schema set up separately)' },
  'temporalio/admin-tools': { tags: /^1\.31\.0$/, note: 'temporal CLI and temporal-sql-tool, for one-shot setup' },
  'temporalio/ui': { tags: /^2\.49\.1$/, note: 'Temporal Web UI' },
};

type Service = {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  deploy?: { replicas?: number };
};
type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> };

// Compose resolves YAML merge keys (<<: *anchor), so they are resolved here too.
const compose = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(' ') : (value ?? ''));
const script = (s: Service) => `${text(s.entrypoint)} ${text(s.command)}`;
function env(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) return Object.fromEntries(s.environment.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
}
function dependsOn(s: Service): Record<string, string> {
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([name, d]) => [name, d.condition]));
}
function imageOf(s: Service): { repository: string; tag: string | null } | null {
  if (!s.image) return null;
  const name = s.image.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const repository = (colon > slash ? name.slice(0, colon) : name).replace(/^(docker\.io\/)?(library\/)?/, '');
  return { repository, tag: colon > slash ? name.slice(colon + 1) : null };
}
/** A service that runs once and exits; the others run for good and need a health check. */
const isOneShot = (name: string) => services.some(([, s]) => dependsOn(s)[name] === 'service_completed_successfully');
const byImage = (repository: string) => services.filter(([, s]) => imageOf(s)?.repository === repository);
const heraldProcess = (entry: string) => services.filter(([, s]) => s.build !== undefined && script(s).includes(entry));

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'contract', 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
    // The schema is draft-07; its $schema URI is the https spelling, which Ajv does not know as a meta-schema.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
    expect(services.length).toBeGreaterThan(0);
  });

  test('every build context exists and has its Dockerfile', () => {
    const builds = services.filter(([, s]) => s.build !== undefined);
    expect(builds.length).toBeGreaterThan(0);
    for (const [name, s] of builds) {
      const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
      const context = path.resolve(ROOT, build.context ?? '.');
      expect({ name, context: fs.statSync(context, { throwIfNoEntry: false })?.isDirectory() ?? false }).toEqual({ name, context: true });
      const dockerfile = path.resolve(context, build.dockerfile ?? 'Dockerfile');
      expect({ name, dockerfile: fs.existsSync(dockerfile) }).toEqual({ name, dockerfile: true });
      // A service built here runs what the image builds; it is never also pulled by name.
      expect({ name, image: s.image }).toEqual({ name, image: undefined });
    }
  });

  test('every image is a known published image, pinned to a known tag', () => {
    for (const [name, s] of services) {
      if (s.build !== undefined) continue;
      const image = imageOf(s);
      expect({ name, hasImage: image !== null }).toEqual({ name, hasImage: true });
      const known = KNOWN_IMAGES[image!.repository];
      if (!known) throw new Error(`service ${name} uses ${s.image}, which is not in KNOWN_IMAGES (${Object.keys(KNOWN_IMAGES).join(', ')})`);
      if (!image!.tag || !known.tags.test(image!.tag)) throw new Error(`service ${name} uses ${s.image}: pin ${image!.repository} to a tag known to exist (${known.tags})`);
    }
    // temporal-sql-tool's schema must be the one of the server that runs on it.
    const tags = (repository: string) => new Set(byImage(repository).map(([, s]) => imageOf(s)!.tag));
    expect(tags('temporalio/admin-tools')).toEqual(tags('temporalio/server'));
  });

  test('depends_on names real services, with conditions they can meet', () => {
    for (const [name, s] of services) {
      for (const [dependency, condition] of Object.entries(dependsOn(s))) {
        const target = compose.services[dependency];
        expect({ name, dependency, exists: target !== undefined }).toEqual({ name, dependency, exists: true });
        if (condition === 'service_healthy') expect({ name, dependency, healthcheck: Boolean(target!.healthcheck?.test) }).toEqual({ name, dependency, healthcheck: true });
        if (condition === 'service_completed_successfully') expect({ name, dependency, restart: target!.restart ?? 'no' }).toEqual({ name, dependency, restart: expect.stringMatching(/^(no|on-failure(:\d+)?)$/) });
      }
    }
  });

  test('every long-running service has a health check', () => {
    const longRunning = services.filter(([name]) => !isOneShot(name));
    expect(longRunning.length).toBeGreaterThanOrEqual(5);
    for (const [name, s] of longRunning) {
      expect({ name, healthcheck: Boolean(s.healthcheck?.test) && !s.healthcheck?.disable }).toEqual({ name, healthcheck: true });
    }
  });

  test('PostgreSQL and a Temporal server whose schema is set up on it', () => {
    expect(byImage('postgres')).toHaveLength(1);
    const [postgres] = byImage('postgres')[0]!;
    expect(byImage('temporalio/server')).toHaveLength(1);
    const [, server] = byImage('temporalio/server')[0]!;
    expect(env(server)).toMatchObject({ DB: expect.stringMatching(/^postgres12(_pgx)?$/), POSTGRES_SEEDS: postgres, BIND_ON_IP: '0.0.0.0' });

    // The schema one-shot runs before the server, against the same PostgreSQL, for both of its databases.
    const schemaSetup = Object.entries(dependsOn(server)).filter(([dependency, condition]) => {
      const d = compose.services[dependency]!;
      return condition === 'service_completed_successfully' && imageOf(d)?.repository === 'temporalio/admin-tools' && script(d).includes('temporal-sql-tool');
    });
    expect(schemaSetup).toHaveLength(1);
    const setupScript = script(compose.services[schemaSetup[0]![0]]!);
    expect(setupScript).toMatch(/--plugin postgres12/);
    expect(setupScript).toMatch(new RegExp(`--ep ${postgres}\\b`));
    for (const part of ['setup-schema', 'update-schema', 'postgresql/v12/temporal/versioned', 'postgresql/v12/visibility/versioned', 'temporal_visibility']) {
      expect(setupScript).toContain(part);
    }
    expect(dependsOn(compose.services[schemaSetup[0]![0]]!)[postgres]).toBe('service_healthy');
  });

  test("the Temporal Web UI, and a one-shot that registers Herald's search attributes", () => {
    const [temporalName] = byImage('temporalio/server')[0]!;
    const [ui] = byImage('temporalio/ui');
    expect(ui).toBeDefined();
    expect(env(ui![1]).TEMPORAL_ADDRESS).toBe(`${temporalName}:7233`);

    const registrations = services.filter(([name, s]) => isOneShot(name) && script(s).includes('search-attribute create'));
    expect(registrations).toHaveLength(1);
    const [registrationName, registration] = registrations[0]!;
    for (const [attribute, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
      expect(script(registration)).toMatch(new RegExp(`--name ${attribute} --type ${type}\\b`));
    }
    expect(script(registration)).toMatch(/namespace create/);
    expect(dependsOn(registration)[temporalName]).toBe('service_healthy');
    // Workflows upsert the attributes, so Herald's processes start only once they are registered.
    for (const [, s] of [...heraldProcess('api/main.ts'), ...heraldProcess('workers/main.ts')]) {
      expect(dependsOn(s)[registrationName]).toBe('service_completed_successfully');
    }
  });

  test("Herald's API and worker are separate services on PostgreSQL and Temporal, after the migrations", () => {
    const [postgresName] = byImage('postgres')[0]!;
    const [temporalName] = byImage('temporalio/server')[0]!;
    const api = heraldProcess('api/main.ts');
    const worker = heraldProcess('workers/main.ts');
    expect(api).toHaveLength(1);
    expect(worker).toHaveLength(1);
    const migrations = services.filter(([name, s]) => isOneShot(name) && s.build !== undefined && /migrate deploy|db:deploy/.test(script(s)));
    expect(migrations).toHaveLength(1);
    for (const [name, s] of [...api, ...worker]) {
      expect({ name, ...env(s) }).toMatchObject({
        name,
        DATABASE_URL: expect.stringContaining(`@${postgresName}:5432/`),
        TEMPORAL_ADDRESS: `${temporalName}:7233`,
      });
      expect(dependsOn(s)[migrations[0]![0]]).toBe('service_completed_successfully');
    }
    expect(env(api[0]![1]).HERALD_ADMIN_KEY).toMatch(/^\$\{HERALD_ADMIN_KEY:\?/);
  });

  test('the Dockerfile bundles the workflows at build time and points the worker at the bundle', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const bundled = /^RUN npm run bundle -- (\S+)$/m.exec(dockerfile);
    expect(bundled).not.toBeNull();
    expect(dockerfile).toMatch(new RegExp(`^ENV HERALD_WORKFLOW_BUNDLE=${bundled![1]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
    // The bundle is made after the sources are copied in (COPY . .).
    expect(dockerfile.indexOf('COPY . .')).toBeLessThan(bundled!.index);
    expect(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });
});

describe('the prebuilt workflow bundle', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bundle-'));
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  }, 60_000);

  afterAll(async () => {
    await env?.teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('npm run bundle writes a bundle that a Worker loads through HERALD_WORKFLOW_BUNDLE and runs', async () => {
    const file = await writeWorkflowBundle(path.join(dir, 'dist', 'workflow-bundle.js'), { logger: new DefaultLogger('WARN') });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    const source = workflowSource(file);
    expect(source).toEqual({ workflowBundle: { codePath: file } });

    const calls: unknown[] = [];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'bundle-test',
      ...source,
      activities: {
        async deactivateStaleDevices(input: unknown) {
          calls.push(input);
          return 3;
        },
      },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('staleDevicesWorkflow', { taskQueue: 'bundle-test', workflowId: 'bundle-test-stale-devices', args: [{ unseenDays: 270 }] }),
    );
    expect(result).toMatchObject({ deactivated: 3 });
    expect(calls).toEqual([{ unseenSince: (result as { unseenSince: string }).unseenSince, reason: 'unseen for 270 days' }]);
  }, 60_000);

  test('without HERALD_WORKFLOW_BUNDLE the worker bundles workflows/ itself; a named bundle that is missing is an error', () => {
    expect(workflowSource(undefined)).toEqual({ workflowsPath: require.resolve('../workflows') });
    expect(() => workflowSource(path.join(dir, 'nope.js'))).toThrow(/HERALD_WORKFLOW_BUNDLE names .*nope\.js, which is not a file/);
  });
});
