// The README's Slurm section shows the shipped hooks and settings file verbatim (issue 13): an
// edit to one without the other fails here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/grid.js';

describe('README: the Slurm hooks as shipped', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const file of ['prolog-brine.sh', 'epilog-brine.sh', 'brine-hooks.conf']) {
    it(`contrib/slurm/${file} is in the README, byte for byte`, () => {
      const shipped = readFileSync(join(REPO_ROOT, 'contrib', 'slurm', file), 'utf8');
      expect(blocks).to.include(shipped);
    });
  }
});
