/**
 * The wire between the tabs of a group: a `BroadcastChannel` (same origin, same browser profile). A message posted
 * reaches every other channel object of that name, in this tab or another, in the order it was posted; never the
 * poster itself. Tests give the members a fake of this interface.
 */
import { filter, fromEvent, map, type Observable } from 'rxjs';
import { readTabMessage, type TabMessage } from './tab-messages';

export interface TabChannel {
  /** Every valid message another member posted; malformed ones are dropped. */
  readonly messages$: Observable<TabMessage>;
  post(message: TabMessage): void;
  close(): void;
}

export type TabChannelFactory = (name: string) => TabChannel;

export type BroadcastChannelConstructor = new (name: string) => BroadcastChannel;

export function broadcastTabChannels(Ctor: BroadcastChannelConstructor): TabChannelFactory {
  return (name) => {
    const channel = new Ctor(name);
    return {
      messages$: fromEvent<MessageEvent>(channel, 'message').pipe(
        map((event) => readTabMessage(event.data)),
        filter((message): message is TabMessage => message !== null),
      ),
      post: (message) => {
        try {
          channel.postMessage(message);
        } catch {
          // Closed meanwhile (the page is going away): nobody is left to tell.
        }
      },
      close: () => channel.close(),
    };
  };
}
