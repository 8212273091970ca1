import { Component, inject } from '@angular/core';
import { Store } from '@ngrx/store';
import { NoticesActions, noticesFeature } from '../state/notices.feature';

/** The latest system broadcast, until dismissed. Urgent levels are announced at once (role alert). */
@Component({
  selector: 'app-broadcast-banner',
  template: `
    @if (banner(); as banner) {
      <div class="banner" [attr.data-level]="banner.level" [attr.role]="banner.level === 'error' || banner.level === 'warning' ? 'alert' : 'status'">
        <div class="banner__inner">
          <span class="banner__label">Announcement</span>
          <p class="banner__message">{{ banner.message }}</p>
          <button type="button" class="btn btn--small btn--ghost" (click)="dismiss()" aria-label="Dismiss announcement">Dismiss</button>
        </div>
      </div>
    }
  `,
})
export class BroadcastBanner {
  private readonly store = inject(Store);
  protected readonly banner = this.store.selectSignal(noticesFeature.selectBanner);

  protected dismiss(): void {
    this.store.dispatch(NoticesActions.bannerDismissed());
  }
}
