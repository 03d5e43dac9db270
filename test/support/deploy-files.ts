import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
export const exists = (path: string): boolean => existsSync(join(ROOT, path));

export interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions (continuations joined, comments dropped), each with the index of its stage. */
export function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const instructions: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, args: match[2].trim(), stage });
  }
  return instructions;
}

/** An exec-form (JSON array) argument list, e.g. CMD ["node", "x.js"]. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`Not an exec-form array: ${args}`);
  }
  return parsed;
}

/** The JS file `npm run build` (`nest build api`) writes for the app's entry, relative to the repository root. */
export function builtEntrypoint(): string {
  const nestCli = JSON.parse(read('nest-cli.json')) as {
    projects: Record<string, { entryFile: string; compilerOptions: { tsConfigPath: string } }>;
  };
  const api = nestCli.projects.api;
  const tsconfig = JSON.parse(read(api.compilerOptions.tsConfigPath)) as {
    compilerOptions: { outDir: string };
  };
  const outDir = posix.normalize(
    posix.join(posix.dirname(api.compilerOptions.tsConfigPath), tsconfig.compilerOptions.outDir),
  );
  return posix.join(outDir, `${api.entryFile}.js`);
}

/** The TypeScript source a path under the build output comes from (dist/apps/x.js → apps/x.ts). */
export function sourceOf(built: string): string {
  return built.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

/** Every YAML document of a file, as plain objects. */
export function yamlDocuments(path: string): Array<Record<string, unknown>> {
  return parseAllDocuments(read(path)).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0].message}`);
    return document.toJS() as Record<string, unknown>;
  });
}

/** A .dockerignore pattern as a regular expression over context-relative paths (Go filepath.Match + `**`). */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = posix.normalize((negate ? line.slice(1) : line).replace(/^\//, ''));
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, regex: new RegExp(`^${source}(?:/.*)?$`) };
    });
  return (path) => {
    let excluded = false;
    for (const { negate, regex } of rules) if (regex.test(path)) excluded = !negate;
    return excluded;
  };
}
