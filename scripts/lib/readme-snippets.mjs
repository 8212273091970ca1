// The packages' READMEs show code that lives in files the consumer app compiles (consumer/). Each ```ts or
// ```json block follows a marker naming its file, and must equal that file: a README example cannot drift from
// code that builds and runs. The install commands are read from the README's "Install" section.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MARKER = /^<!-- file: (\S+) -->$/;
const CHECKED_LANGUAGES = new Set(['ts', 'json']);

/**
 * The fenced blocks of a markdown text, with the file marker on the line before each, if any.
 * @param {string} markdown
 * @returns {Array<{ lang: string, code: string, line: number, file: string | null }>}
 */
export function codeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    let previous = start - 1;
    while (previous >= 0 && lines[previous]?.trim() === '') previous--;
    const marker = MARKER.exec(lines[previous]?.trim() ?? '');
    blocks.push({ lang: open[1] ?? '', code: `${body.join('\n')}\n`, line: start + 1, file: marker?.[1] ?? null });
  }
  return blocks;
}

/**
 * What is wrong with the README's examples: a ts/json block without a marker, a marked file that is missing, or a
 * block that differs from its file. Empty when the README and the files agree.
 * @param {string} readmePath @param {string} root the repository root (marker paths are relative to it)
 * @returns {string[]}
 */
export function snippetProblems(readmePath, root) {
  const problems = [];
  for (const block of codeBlocks(readFileSync(readmePath, 'utf8'))) {
    if (!CHECKED_LANGUAGES.has(block.lang)) continue;
    const where = `${readmePath}:${block.line}`;
    if (!block.file) {
      problems.push(`${where}: a \`\`\`${block.lang} block without a <!-- file: ... --> marker before it`);
      continue;
    }
    let content;
    try {
      content = readFileSync(join(root, block.file), 'utf8');
    } catch {
      problems.push(`${where}: ${block.file} does not exist`);
      continue;
    }
    if (content !== block.code) problems.push(`${where}: differs from ${block.file} (${firstDifference(content, block.code)})`);
  }
  return problems;
}

/** @param {string} a @param {string} b */
function firstDifference(a, b) {
  const left = a.split('\n');
  const right = b.split('\n');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    if (left[i] !== right[i]) return `line ${i + 1}: file ${JSON.stringify(left[i] ?? '')}, README ${JSON.stringify(right[i] ?? '')}`;
  }
  return 'same lines';
}

/**
 * The `npm install` commands of the README's "Install" section, as argument lists (comments dropped).
 * @param {string} markdown @returns {string[][]}
 */
export function installCommands(markdown) {
  const section = /^## Install\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  return codeBlocks(section)
    .filter((block) => block.lang === 'sh')
    .flatMap((block) => block.code.split('\n'))
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('npm install '))
    .map((line) => line.split(/\s+/));
}
