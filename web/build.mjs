// Builds the console into web/dist: one esbuild bundle (code-split ES modules, minified, hashed
// names under dist/assets/), the files of public/ as they are, and index.html pointing at the bundle.
// `make web` runs it only when an input changed (make compares the files' times with dist/index.html).
// `node build.mjs --watch` rebuilds on every change (refresh the page yourself).
import { build, context } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');

const options = {
  absWorkingDir: root, // metafile paths relative to web/, wherever `node build.mjs` runs from
  // `seal` is the secret-sealing module on its own (tests load it in the browser; screens import it).
  entryPoints: { app: join(root, 'src/main.js'), seal: join(root, 'src/lib/seal.js') },
  bundle: true,
  splitting: true, // screens and libsodium that load on demand become chunks of their own
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: 'linked',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
};

function writeIndex(metafile) {
  const [js, entry] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint?.endsWith('src/main.js'));
  const css = entry.cssBundle;
  const url = (file) => '/' + relative(dist, join(root, file)).split('\\').join('/');
  const html = readFileSync(join(root, 'index.html'), 'utf8')
    .replace('{{js}}', url(js))
    .replace('{{css}}', url(css));
  writeFileSync(join(dist, 'index.html'), html);
  const bytes = Object.entries(metafile.outputs)
    .filter(([file]) => !file.endsWith('.map') && !file.endsWith('.txt'))
    .map(([file, o]) => `${basename(file)} ${(o.bytes / 1024).toFixed(1)} KiB`);
  console.log(`web/dist: ${bytes.join(', ')}`);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(root, 'public'), dist, { recursive: true });

if (process.argv.includes('--watch')) {
  const ctx = await context({
    ...options,
    plugins: [{ name: 'index', setup: (b) => b.onEnd((r) => r.metafile && writeIndex(r.metafile)) }],
  });
  await ctx.watch();
  console.log('watching web/src for changes (Ctrl-C to stop)');
} else {
  writeIndex((await build(options)).metafile);
}
