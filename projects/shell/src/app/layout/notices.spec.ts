import { TestBed } from '@angular/core/testing';
import { provideState, provideStore, Store } from '@ngrx/store';
import { RealtimeNotificationsActions } from '@payments-system/realtime/store';
import { noticesFeature, MAX_TOASTS } from '../state/notices.feature';
import { BroadcastBanner } from './broadcast-banner';
import { Toasts } from './toasts';

describe('Toasts and BroadcastBanner', () => {
  let store: Store;
  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideStore(), provideState(noticesFeature)] });
    store = TestBed.inject(Store);
  });

  const notify = (id: string, level: 'success' | 'error' = 'success') =>
    store.dispatch(
      RealtimeNotificationsActions.notificationReceived({
        notification: { notificationId: id, level, title: `Title ${id}`, message: `Message ${id}`, paymentId: 'pay_1' },
      }),
    );

  it('shows notifications in a polite live region, at most a few, and dismisses one by its button', async () => {
    const fixture = TestBed.createComponent(Toasts);
    const el = fixture.nativeElement as HTMLElement;
    for (let i = 1; i <= MAX_TOASTS + 1; i++) notify(`n${i}`);
    await fixture.whenStable();
    expect(el.querySelector('[aria-live="polite"]')).not.toBeNull();
    const titles = () => [...el.querySelectorAll('.toast__title')].map((t) => t.textContent);
    expect(titles().length).toBe(MAX_TOASTS);
    expect(titles()[0]).toBe('Title n2'); // the oldest went first
    const close = el.querySelector<HTMLButtonElement>('button[aria-label="Dismiss notification: Title n2"]')!;
    close.click();
    await fixture.whenStable();
    expect(titles()).not.toContain('Title n2');
  });

  it('shows a system broadcast as a banner; a warning interrupts (role alert), and it can be dismissed', async () => {
    const fixture = TestBed.createComponent(BroadcastBanner);
    const el = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
    expect(el.querySelector('.banner')).toBeNull();
    store.dispatch(RealtimeNotificationsActions.broadcastReceived({ broadcast: { message: 'Maintenance at 22:00', level: 'warning' } }));
    await fixture.whenStable();
    const banner = el.querySelector('.banner')!;
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain('Maintenance at 22:00');
    el.querySelector<HTMLButtonElement>('button[aria-label="Dismiss announcement"]')!.click();
    await fixture.whenStable();
    expect(el.querySelector('.banner')).toBeNull();
  });
});
