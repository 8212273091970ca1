import { FakeTabs } from '../../spec-helpers/fake-tabs';
import { ChannelElection } from './channel-election';
import { LockElection, LockPresence } from './lock-election';
import type { TabMessage } from './tab-messages';

describe('LockElection (fake Web Locks)', () => {
  function elections(count: number) {
    const tabs = new FakeTabs();
    const terms: Array<Array<number | null>> = [];
    const list = Array.from({ length: count }, (_, i) => {
      const page = tabs.page();
      const election = new LockElection(page.env.locks!, 'g:owner', () => 1000);
      terms[i] = [];
      election.ownership$.subscribe((t) => terms[i]!.push(t));
      return { page, election };
    });
    return { tabs, list, terms };
  }

  it('elects the first in line; the next one owns when it resigns, with a higher term', async () => {
    const { tabs, list, terms } = elections(3);
    for (const { election } of list) election.stand();
    await tabs.flush();
    expect(terms).toEqual([[1000], [], []]);
    list[0]!.election.observe({ kind: 'resign', from: 'x', term: 1000 });
    list[1]!.election.observe({ kind: 'owner', from: 'x', term: 1000 } as TabMessage);
    list[0]!.election.resign();
    await tabs.flush();
    expect(terms).toEqual([[1000], [1001], []]);
  });

  it("hands over when the owner's tab crashes", async () => {
    const { tabs, list, terms } = elections(2);
    for (const { election } of list) election.stand();
    await tabs.flush();
    list[0]!.page.crash();
    await tabs.flush();
    expect(terms[1]).toEqual([1000]);
  });

  it('takes over from a frozen owner, which learns it lost the lock when it wakes', async () => {
    const { tabs, list, terms } = elections(2);
    for (const { election } of list) election.stand();
    await tabs.flush();
    list[0]!.page.freeze();
    list[1]!.election.usurp();
    await tabs.flush();
    expect(terms).toEqual([[1000], [1000]]);
    list[0]!.page.unfreeze();
    await tabs.flush();
    expect(terms[0]).toEqual([1000, null]);
    // It waits in line again, and gets no second grant from its old request.
    list[0]!.election.stand();
    await tabs.flush();
    expect(terms[0]).toEqual([1000, null]);
  });

  it('gives a lock granted after resigning straight back', async () => {
    const { tabs, list, terms } = elections(2);
    list[0]!.election.stand();
    list[0]!.election.resign();
    list[1]!.election.stand();
    await tabs.flush();
    expect(terms).toEqual([[], [1000]]);
  });
});

describe('LockPresence (fake Web Locks)', () => {
  it("tells the owner when a member's tab is gone, closed or crashed", async () => {
    const tabs = new FakeTabs();
    const [a, b, owner] = [tabs.page(), tabs.page(), tabs.page()];
    const gone: string[] = [];
    for (const [page, id] of [[a, 'a'], [b, 'b']] as const) new LockPresence(page.env.locks!, 'g', id).enter().subscribe();
    await tabs.flush();
    const watcher = new LockPresence(owner.env.locks!, 'g', 'owner');
    watcher.gone$('a').subscribe(() => gone.push('a'));
    watcher.gone$('b').subscribe(() => gone.push('b'));
    await tabs.flush();
    expect(gone).toEqual([]);
    b.crash();
    await tabs.flush();
    expect(gone).toEqual(['b']);
  });
});

describe('ChannelElection (no Web Locks)', () => {
  let now = 5000;
  beforeEach(() => {
    now = 5000;
    jasmine.clock().install();
  });
  afterEach(() => jasmine.clock().uninstall());

  /**
   * Members on a channel whose posts wait in a queue until `deliver()` (each reaches every member, the poster
   * included, as the transport does). As the shared transport does around the election: a member that stands says
   * so (`status`), and an owner announces itself when elected and answers every status.
   */
  function channel(ids: string[]) {
    const terms = new Map<string, Array<number | null>>();
    const members: ChannelElection[] = [];
    const queue: TabMessage[] = [];
    const post = (message: TabMessage) => queue.push(message);
    const owners = new Map<string, number>();
    const deliver = () => {
      while (queue.length > 0) {
        const message = queue.shift()!;
        members.forEach((m) => m.observe(message));
        if (message.kind === 'status') for (const [from, term] of owners) post({ kind: 'owner', from, term } as TabMessage);
      }
    };
    const tick = (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        now += 10;
        jasmine.clock().tick(10);
        deliver();
      }
    };
    ids.forEach((id) => {
      const election = new ChannelElection({ memberId: id, post, settleMs: 100, now: () => now });
      terms.set(id, []);
      election.ownership$.subscribe((t) => {
        terms.get(id)!.push(t);
        if (t === null) return void owners.delete(id);
        owners.set(id, t);
        post({ kind: 'owner', from: id, term: t } as TabMessage);
      });
      members.push(election);
    });
    const stand = (i: number) => {
      members[i]!.stand();
      post({ kind: 'status', from: ids[i]!, seq: 1, wants: true });
    };
    const resign = (i: number) => {
      members[i]!.resign();
      owners.delete(ids[i]!);
    };
    return { members, terms, post, deliver, tick, stand, resign };
  }

  it('elects one member when none owns', () => {
    const { members, terms, tick, stand } = channel(['m2', 'm1', 'm3']);
    members.forEach((_, i) => stand(i));
    tick(1000);
    const owners = [...terms].filter(([, t]) => t.length > 0);
    expect(owners.length).toBe(1);
    expect(owners[0]![1]).toEqual([5100]);
  });

  it('settles claims made at once with equal terms: the lowest member id wins', () => {
    const { members, terms, deliver, tick } = channel(['m2', 'm1']);
    for (const m of members) m.stand();
    jasmine.clock().tick(100); // both claim (term 5000, this clock's time) before either hears the other
    deliver();
    tick(500);
    expect(terms.get('m1')).toEqual([5000]);
    expect(terms.get('m2')).toEqual([]);
  });

  it('claims nothing while an owner answers', () => {
    const { members, terms, post, tick } = channel(['m1']);
    members[0]!.stand();
    post({ kind: 'owner', from: 'other', term: 7 } as TabMessage);
    tick(500);
    expect(terms.get('m1')).toEqual([]);
  });

  it('takes over when the owner resigns, and an owner that hears a higher claim stands down', () => {
    const { members, terms, post, tick, stand, resign } = channel(['m1', 'm2']);
    stand(0);
    tick(300);
    stand(1); // the owner answers: m2 claims nothing
    tick(300);
    expect(terms.get('m1')).toEqual([5100]);
    expect(terms.get('m2')).toEqual([]);
    resign(0);
    post({ kind: 'resign', from: 'm1', term: 5100 });
    tick(300);
    expect(terms.get('m2')).toEqual([5610]);
    stand(0);
    tick(300);
    members[0]!.usurp(); // m1 found m2 unresponsive
    tick(300);
    expect(terms.get('m2')).toEqual([5610, null]);
    expect(terms.get('m1')).toEqual([5100, 6200]);
  });
});
