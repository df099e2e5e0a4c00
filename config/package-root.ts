/**
 * The package root (the folder with vkhod's package.json), found from this file's own place so
 * the same code finds `views/` when run from the sources (tsx) and from the compiled `dist/`
 * (`dist/config/` is one level deeper) — whatever the working directory is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'vkhod') return dir;
    if (dirname(dir) === dir) throw new Error(`vkhod: no package.json of vkhod above ${start}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
/** Handlebars views, locales and static files. */
export const VIEWS_DIR = join(PACKAGE_ROOT, 'views');
