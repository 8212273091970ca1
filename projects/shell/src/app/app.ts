import { Component, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { AuthService } from './core/auth.service';
import { BroadcastBanner } from './layout/broadcast-banner';
import { ConnectionIndicator } from './layout/connection-indicator';
import { Toasts } from './layout/toasts';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, ConnectionIndicator, BroadcastBanner, Toasts],
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="app-header">
      <div class="app-header__inner">
        <span class="brand"><span class="brand__mark" aria-hidden="true">◆</span> Payments</span>
        @if (auth.user(); as user) {
          <app-connection-indicator />
          <div class="who">
            <span class="who__name">{{ user.name }}</span>
            <span class="role-tag" [attr.data-role]="user.role">{{ roleLabel[user.role] }}</span>
          </div>
          <button type="button" class="btn btn--ghost" (click)="signOut()">Sign out</button>
        }
      </div>
    </header>
    @if (auth.user()) {
      <app-broadcast-banner />
    }
    <main id="main" class="app-main" tabindex="-1">
      <router-outlet />
    </main>
    <app-toasts />
  `,
})
export class App {
  protected readonly auth = inject(AuthService);
  protected readonly roleLabel = { ADMIN: 'Admin', CUSTOMER: 'Customer', VENDOR: 'Vendor' } as const;

  protected signOut(): void {
    void this.auth.logout();
  }
}
