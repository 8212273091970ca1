import { TestBed } from '@angular/core/testing';
import { gatewayWsUrl, mintToken, startGateway, stopGateway, waitFor } from '../spec-helpers/gateway-control';
import { provideRealtime } from '../lib/provide-realtime';
import { RealtimeService, type RealtimePresenceMember } from '../lib/realtime.service';

/** A plain browser socket of `userId`: someone else's tab. Resolves once open. */
async function openTab(userId: string): Promise<WebSocket> {
  const socket = new WebSocket(gatewayWsUrl(), ['bearer', await mintToken(userId)]);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`${userId}'s socket did not open`));
  });
  return socket;
}

const ids = (members: readonly RealtimePresenceMember[]) => members.map((m) => m.userId);

describe('presence against the real gateway', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('an admin sees a customer come online and go offline, and watches again after the gateway restarts', async () => {
    TestBed.configureTestingModule({
      providers: [provideRealtime({ url: gatewayWsUrl(), token: await mintToken('it-admin-p', 'ADMIN'), heartbeat: false, reconnect: { delaysMs: [200, 400] } })],
    });
    const service = TestBed.inject(RealtimeService);
    const members = service.presence$('user:it-alice-p');
    await waitFor(members, (list) => list.length === 0, 'the first list: nobody');

    const tab = await openTab('it-alice-p');
    const online = await waitFor(members, (list) => ids(list).includes('it-alice-p'), 'alice online');
    expect(online).toEqual([{ userId: 'it-alice-p', role: 'CUSTOMER' }]);
    tab.close();
    await waitFor(members, (list) => list.length === 0, 'alice offline');

    await stopGateway();
    await waitFor(service.state$, (s) => s === 'reconnecting', 'reconnecting');
    await startGateway();
    await waitFor(service.state$, (s) => s === 'connected', 'connected again');
    const again = await openTab('it-alice-p');
    await waitFor(members, (list) => ids(list).includes('it-alice-p'), 'alice online, seen through the new socket');
    again.close();
  });

  it('a refused room errors with FORBIDDEN', async () => {
    TestBed.configureTestingModule({ providers: [provideRealtime({ url: gatewayWsUrl(), token: await mintToken('it-eve-p'), heartbeat: false })] });
    const service = TestBed.inject(RealtimeService);
    const error = await new Promise<unknown>((resolve) => service.presence$('user:someone-else').subscribe({ error: resolve }));
    expect(error).toEqual(jasmine.objectContaining({ code: 'FORBIDDEN', room: 'user:someone-else' }));
  });
});
