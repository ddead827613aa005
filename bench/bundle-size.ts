/**
 * get-secret's Lambda bundle vs a bundle that imports only
 * @aws-sdk/client-dynamodb: bytes (minified, as CDK builds it) and cold
 * module-load time (median over fresh node processes of `await import()`).
 *
 * The esbuild options mirror infra/constructs/operation-function.ts, i.e. the
 * command line aws-cdk-lib's NodejsFunction runs for it. Nothing is invoked:
 * the handlers are only imported. Prints figures only.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { median, printBenchJson, ratio, round, table, verdict } from './support/common.ts';

const TARGET = 1.3;
const PROCESSES = 10;
const TOP = 15;
const root = join(import.meta.dirname, '..');
const constructFile = join(root, 'infra', 'constructs', 'operation-function.ts');

/**
 * The banner the construct passes, read from its source so the two cannot drift, together with a
 * check that the bundling options mirrored below are still the construct's.
 */
function constructBanner(): string {
  const source = readFileSync(constructFile, 'utf8');
  const shim = /const requireShim =\s*((?:(?:'[^']*'|"[^"]*")\s*\+?\s*)+);/.exec(source)?.[1];
  if (!shim) throw new Error(`no requireShim found in ${constructFile}`);
  const banner = [...shim.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]).join('');
  const expected = [
    'format: OutputFormat.ESM',
    "target: 'node22'",
    'minify: true',
    'sourceMap: true',
    'sourcesContent: false',
    "mainFields: ['module', 'main']",
    'banner: requireShim',
    'externalModules: []',
  ];
  const drifted = expected.filter((option) => !source.includes(option));
  if (drifted.length > 0) {
    throw new Error(`operation-function.ts no longer has ${drifted.join(', ')}: update bench/bundle-size.ts`);
  }
  return banner;
}

/** NodejsFunction's esbuild arguments for this construct, as build options. */
function cdkOptions(entry: string, outfile: string, banner: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    target: 'node22',
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: banner },
    mainFields: ['module', 'main'],
    external: [],
    absWorkingDir: root, // NodejsFunction runs esbuild in projectRoot
    metafile: true, // only reports; changes nothing in the output
    logLevel: 'warning',
  };
}

/** The baseline: only the DynamoDB client, made lazily as the handlers' container makes it. */
const BASELINE = `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

let client;

export const handler = async (event) => {
  client ??= new DynamoDBClient({});
  const out = await client.send(
    new GetItemCommand({
      TableName: process.env.TABLE_NAME,
      Key: { pk: { S: event.pk }, sk: { S: '#head' } },
      ConsistentRead: true,
    }),
  );
  return { statusCode: out.Item ? 200 : 404, body: JSON.stringify(out.Item ?? null) };
};
`;

/** Prints the milliseconds `await import()` of the bundle takes in a fresh process. */
const LOADER = `const url = process.argv[2];
const t0 = performance.now();
const module = await import(url);
const elapsed = performance.now() - t0;
if (typeof module.handler !== 'function') throw new Error('the bundle exports no handler');
console.log(elapsed);
`;

interface Bundle {
  readonly label: string;
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly byPackage: Map<string, number>;
}

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (input.startsWith('../')) return '(entry outside the repository)';
  if (at < 0) {
    const [top, sub] = input.split('/');
    return sub && !sub.includes('.') ? `arca ${top}/${sub}` : `arca ${top}`;
  }
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}

function bytesByPackage(metafile: Metafile, outfile: string): Map<string, number> {
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(root, path) === outfile)?.[1];
  if (!output) throw new Error(`esbuild's metafile does not describe ${outfile}`);
  const sums = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = packageOf(input);
    sums.set(pkg, (sums.get(pkg) ?? 0) + bytesInOutput);
  }
  return sums;
}

async function bundle(label: string, options: BuildOptions): Promise<Bundle> {
  const result = await build(options);
  const file = options.outfile as string;
  return {
    label,
    file,
    bytes: statSync(file).size,
    mapBytes: statSync(`${file}.map`).size,
    byPackage: bytesByPackage(result.metafile as Metafile, file),
  };
}

/** One fresh process per sample, the two bundles alternating which goes first. */
function loadTimes(bundles: readonly Bundle[], loader: string, nodeOptions: string): number[][] {
  const run = (b: Bundle) => {
    const out = spawnSync(process.execPath, [loader, pathToFileURL(b.file).href], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: nodeOptions, NODE_NO_WARNINGS: '1' },
    });
    if (out.status !== 0) throw new Error(`loading ${b.label} failed: ${out.stderr}`);
    return Number(out.stdout.trim());
  };
  for (const b of bundles) run(b); // one unmeasured load each: the files into the page cache
  const samples = bundles.map(() => [] as number[]);
  for (let i = 0; i < PROCESSES; i++) {
    const order = i % 2 === 0 ? bundles.map((_, j) => j) : bundles.map((_, j) => bundles.length - 1 - j);
    for (const j of order) samples[j]?.push(run(bundles[j] as Bundle));
  }
  return samples;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const work = mkdtempSync(join(tmpdir(), 'arca-bundle-'));
try {
  const banner = constructBanner();
  const baselineEntry = join(work, 'baseline', 'handler.mjs');
  const loader = join(work, 'load.mjs');
  mkdirSync(join(work, 'baseline'));
  writeFileSync(baselineEntry, BASELINE);
  writeFileSync(loader, LOADER);

  const getSecret = await bundle(
    'get-secret',
    cdkOptions(
      join(root, 'functions', 'secrets', 'get-secret.ts'),
      join(work, 'get-secret', 'index.mjs'),
      banner,
    ),
  );
  const baseline = await bundle('DynamoDB-only baseline', {
    ...cdkOptions(baselineEntry, join(work, 'baseline-out', 'index.mjs'), banner),
    // The entry lives outside the repository: let it find the repository's packages.
    nodePaths: [join(root, 'node_modules')],
  });
  const bundles = [getSecret, baseline];

  const [plainTarget, plainBase] = loadTimes(bundles, loader, '') as [number[], number[]];
  const [mapsTarget, mapsBase] = loadTimes(bundles, loader, '--enable-source-maps') as [number[], number[]];
  const load = {
    plain: { getSecret: median(plainTarget), baseline: median(plainBase) },
    sourceMaps: { getSecret: median(mapsTarget), baseline: median(mapsBase) },
  };
  const bytesRatio = getSecret.bytes / baseline.bytes;
  const loadRatio = load.plain.getSecret / load.plain.baseline;
  const mapsRatio = load.sourceMaps.getSecret / load.sourceMaps.baseline;
  const bytesMet = bytesRatio <= TARGET;
  const loadMet = loadRatio <= TARGET;

  console.log("get-secret's bundle vs a bundle importing only @aws-sdk/client-dynamodb");
  console.log(
    '  esbuild as infra/constructs/operation-function.ts runs it: ESM, node22, minify, sourcemap ' +
      '(no sources), mainFields module,main, createRequire banner, nothing external',
  );
  console.log(`  cold load: median of ${PROCESSES} fresh node ${process.version} processes per bundle`);
  console.log('');
  console.log(
    table([
      ['', 'get-secret', 'baseline', 'ratio', `target ≤ ${TARGET}×`],
      [
        'bundle bytes (minified)',
        `${getSecret.bytes} (${kib(getSecret.bytes)})`,
        `${baseline.bytes} (${kib(baseline.bytes)})`,
        ratio(bytesRatio),
        verdict(bytesMet),
      ],
      [
        'source map bytes',
        getSecret.mapBytes,
        baseline.mapBytes,
        ratio(getSecret.mapBytes / baseline.mapBytes),
        '',
      ],
      [
        'cold import, median',
        `${load.plain.getSecret.toFixed(1)} ms`,
        `${load.plain.baseline.toFixed(1)} ms`,
        ratio(loadRatio),
        verdict(loadMet),
      ],
      [
        '  with --enable-source-maps (as on Lambda)',
        `${load.sourceMaps.getSecret.toFixed(1)} ms`,
        `${load.sourceMaps.baseline.toFixed(1)} ms`,
        ratio(mapsRatio),
        '',
      ],
    ]),
  );
  console.log(`  samples get-secret: ${plainTarget.map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`  samples baseline:   ${plainBase.map((x) => x.toFixed(1)).join(' ')}`);

  const contributors = [...getSecret.byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([pkg, bytes]) => ({ pkg, bytes, baseline: baseline.byPackage.get(pkg) ?? 0 }));
  const extraPackages = [...getSecret.byPackage.keys()].filter((p) => !baseline.byPackage.has(p));
  if (!bytesMet || !loadMet || process.argv.includes('--contributors')) {
    console.log('');
    console.log(`Top ${TOP} contributors to the get-secret bundle (bytes in output, by package):`);
    console.log(
      table([
        ['package', 'get-secret', 'baseline', 'extra', 'share'],
        ...contributors
          .slice(0, TOP)
          .map((c) => [
            c.pkg,
            c.bytes,
            c.baseline,
            c.bytes - c.baseline,
            `${((100 * c.bytes) / getSecret.bytes).toFixed(1)}%`,
          ]),
      ]),
    );
    const extra = extraPackages.reduce((s, p) => s + (getSecret.byPackage.get(p) ?? 0), 0);
    console.log(
      `  ${extraPackages.length} packages/folders absent from the baseline add ${extra} bytes ` +
        `(${kib(extra)}); shared ones differ by ${getSecret.bytes - baseline.bytes - extra} bytes`,
    );
  }

  printBenchJson('bundle-size', {
    bytes: { getSecret: getSecret.bytes, baseline: baseline.bytes, ratio: round(bytesRatio, 2) },
    mapBytes: { getSecret: getSecret.mapBytes, baseline: baseline.mapBytes },
    loadMs: {
      getSecret: round(load.plain.getSecret, 1),
      baseline: round(load.plain.baseline, 1),
      ratio: round(loadRatio, 2),
      samples: {
        getSecret: plainTarget.map((x) => round(x, 1)),
        baseline: plainBase.map((x) => round(x, 1)),
      },
    },
    loadMsSourceMaps: {
      getSecret: round(load.sourceMaps.getSecret, 1),
      baseline: round(load.sourceMaps.baseline, 1),
      ratio: round(mapsRatio, 2),
    },
    topContributors: contributors.slice(0, TOP),
    target: TARGET,
    met: { bytes: bytesMet, load: loadMet },
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
