// Node lists as Slurm and OAR hand them to the hooks in contrib/, and which nodes a site manages.
import { expect } from 'chai';
import { parseNodes, splitManaged } from '../../src/cli/node-list.js';
import { BrineError } from '../../src/shared/errors.js';

describe('node lists from batch schedulers', () => {
  it('reads Slurm: comma-separated, or `scontrol show hostnames` one per line', () => {
    expect(parseNodes('a1,a2')).to.deep.equal(['a1', 'a2']);
    expect(parseNodes('a1\na2\n')).to.deep.equal(['a1', 'a2']);
  });

  it("reads OAR: $OAR_NODEFILE repeats a host once per core; assigned_hostnames joins with '+'", () => {
    expect(parseNodes('node-3\nnode-3\nnode-3\nnode-7\nnode-7\n')).to.deep.equal(['node-3', 'node-7']);
    expect(parseNodes('node-3+node-7')).to.deep.equal(['node-3', 'node-7']);
    expect(parseNodes(' node-3 + node-7 , node-3 ')).to.deep.equal(['node-3', 'node-7']);
  });

  it('refuses an empty list and names outside [a-z0-9-], naming --nodes', () => {
    for (const bad of ['', ' , \n', 'a[1-2]', 'A1', 'a1.example.org']) {
      let err: unknown;
      try {
        parseNodes(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(BrineError);
      expect((err as BrineError).code).to.equal('INVALID_ARGUMENT');
      expect((err as BrineError).field).to.equal('--nodes');
    }
  });

  it("splits the site's own nodes from the others, keeping order", () => {
    expect(splitManaged(['a3', 'a1', 'x9', 'a2'], ['a1', 'a2'])).to.deep.equal({ managed: ['a1', 'a2'], unmanaged: ['a3', 'x9'] });
    expect(splitManaged(['a3'], ['a1', 'a2'])).to.deep.equal({ managed: [], unmanaged: ['a3'] });
  });
});
