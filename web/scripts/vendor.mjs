// Copies the chart library from node_modules into web/static/vendor/ so hbd serves it
// under /static/vendor/ (no CDN, no internet at run time). Runs as npm postinstall.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(web, 'static', 'vendor');
mkdirSync(out, { recursive: true });
for (const f of ['uPlot.esm.js', 'uPlot.min.css']) {
  copyFileSync(join(web, 'node_modules', 'uplot', 'dist', f), join(out, f));
}
copyFileSync(join(web, 'node_modules', 'uplot', 'LICENSE'), join(out, 'uPlot.LICENSE'));
console.log('vendor: copied uPlot into static/vendor/');
