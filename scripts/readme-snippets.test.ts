import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeBlocks, installCommands, snippetProblems } from './lib/readme-snippets.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe("the packages' README examples", () => {
  for (const readme of ['projects/realtime/README.md', 'projects/protocol/README.md']) {
    it(`${readme}: every ts/json block equals the consumer app's file it names`, () => {
      assert.deepEqual(snippetProblems(join(ROOT, readme), ROOT), []);
    });
  }

  it('reports a block that drifted from its file, a missing file and a block without a marker', () => {
    const root = mkdtempSync(join(tmpdir(), 'readme-snippets-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    const readme = join(root, 'README.md');
    writeFileSync(
      readme,
      [
        '<!-- file: src/a.ts -->', '```ts', 'export const a = 1;', '```',
        '<!-- file: src/a.ts -->', '```ts', 'export const a = 2;', '```',
        '<!-- file: src/gone.ts -->', '```ts', 'x', '```',
        '```ts', 'unmarked', '```',
        '```sh', 'npm test', '```',
      ].join('\n'),
    );
    const problems = snippetProblems(readme, root);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /:6: differs from src\/a\.ts \(line 1: file "export const a = 1;", README "export const a = 2;"\)/);
    assert.match(problems[1]!, /src\/gone\.ts does not exist/);
    assert.match(problems[2]!, /without a <!-- file: \.\.\. --> marker/);
  });

  it('reads the install commands of the Install section only, without comments', () => {
    const markdown = '## Install\n\n```sh\nnpm install a b   # two\n```\n\n## Other\n\n```sh\nnpm install c\n```\n';
    assert.deepEqual(installCommands(markdown), [['npm', 'install', 'a', 'b']]);
    assert.equal(codeBlocks(markdown).length, 2);
  });
});
