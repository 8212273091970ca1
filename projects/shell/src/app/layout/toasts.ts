import { Component, inject } from '@angular/core';
import { Store } from '@ngrx/store';
import { NoticesActions, noticesFeature } from '../state/notices.feature';

/** Notification toasts (payment completed, failed...). The region is polite: it never interrupts. */
@Component({
  selector: 'app-toasts',
  template: `
    <section class="toasts" aria-label="Notifications">
      <ol class="toasts__list" aria-live="polite" aria-relevant="additions">
        @for (toast of toasts(); track toast.id) {
          <li class="toast" [attr.data-level]="toast.level">
            <div class="toast__body">
              <p class="toast__title">{{ toast.title }}</p>
              <p class="toast__message">{{ toast.message }}</p>
            </div>
            <button type="button" class="toast__close" (click)="dismiss(toast.id)" [attr.aria-label]="'Dismiss notification: ' + toast.title">×</button>
          </li>
        }
      </ol>
    </section>
  `,
})
export class Toasts {
  private readonly store = inject(Store);
  protected readonly toasts = this.store.selectSignal(noticesFeature.selectToasts);

  protected dismiss(id: string): void {
    this.store.dispatch(NoticesActions.toastDismissed({ id }));
  }
}
