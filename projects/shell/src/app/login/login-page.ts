import { HttpClient } from '@angular/common/http';
import { afterNextRender, Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import type { DemoAccount } from '@payments-system/protocol';
import { catchError, map, of } from 'rxjs';
import { errorMessage } from '../core/api-error';
import { AuthService } from '../core/auth.service';

const SIGNED_OUT_MESSAGES = {
  logout: 'You signed out.',
  elsewhere: 'You were signed out in another tab or on another device.',
  expired: 'Your session has ended. Please sign in again.',
} as const;

@Component({
  selector: 'app-login-page',
  imports: [ReactiveFormsModule],
  template: `
    <div class="login">
      <section class="card login__form" aria-labelledby="login-title">
        <h1 id="login-title" tabindex="-1" #heading>Sign in</h1>
        <p class="muted">Live payments, as they happen.</p>
        @if (reason(); as reason) {
          <p class="notice" role="status">{{ messages[reason] }}</p>
        }
        <form [formGroup]="form" (ngSubmit)="submit()" novalidate>
          <div class="field">
            <label for="email">Email</label>
            <input id="email" type="email" formControlName="email" autocomplete="username" required
                   [attr.aria-invalid]="showInvalid('email')" aria-describedby="email-error" />
            @if (showInvalid('email')) { <p id="email-error" class="field__error">Enter your email address.</p> }
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" type="password" formControlName="password" autocomplete="current-password" required
                   [attr.aria-invalid]="showInvalid('password')" aria-describedby="password-error" />
            @if (showInvalid('password')) { <p id="password-error" class="field__error">Enter your password.</p> }
          </div>
          @if (error(); as error) {
            <p class="form-error" role="alert">{{ error }}</p>
          }
          <button type="submit" class="btn btn--primary btn--block" [disabled]="busy()" [attr.aria-busy]="busy()">
            {{ busy() ? 'Signing in…' : 'Sign in' }}
          </button>
        </form>
      </section>

      @if (demoAccounts(); as accounts) {
        <section class="card login__demo" aria-labelledby="demo-title">
          <h2 id="demo-title">Demo accounts</h2>
          <p class="muted">This gateway runs in demo mode. Pick an account to sign in with it.</p>
          <ul class="demo-list">
            @for (account of accounts; track account.email) {
              <li>
                <button type="button" class="demo-account" (click)="useAccount(account)" [disabled]="busy()"
                        [attr.aria-label]="'Sign in as ' + account.name + ', ' + account.role">
                  <span class="demo-account__name">{{ account.name }}</span>
                  <span class="role-tag" [attr.data-role]="account.role">{{ account.role }}</span>
                  <span class="demo-account__cred">{{ account.email }} · {{ account.password }}</span>
                </button>
              </li>
            }
          </ul>
        </section>
      }
    </div>
  `,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly fb = inject(NonNullableFormBuilder);
  private readonly heading = viewChild.required<ElementRef<HTMLElement>>('heading');

  protected readonly messages = SIGNED_OUT_MESSAGES;
  protected readonly reason = this.auth.signedOutReason;
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly submitted = signal(false);
  protected readonly form = this.fb.group({
    email: ['', [Validators.required]],
    password: ['', [Validators.required]],
  });

  /** Listed only when the gateway runs in demo mode (the endpoint answers 404 otherwise). */
  protected readonly demoAccounts = toSignal(
    inject(HttpClient)
      .get<{ accounts: DemoAccount[] }>('/api/auth/demo-accounts')
      .pipe(
        map((body) => (body.accounts.length > 0 ? body.accounts : null)),
        catchError(() => of(null)),
      ),
    { initialValue: null },
  );

  constructor() {
    // Land keyboard and screen reader users on the page's heading (after a sign-out especially).
    afterNextRender(() => this.heading().nativeElement.focus());
  }

  protected showInvalid(name: 'email' | 'password'): boolean {
    const control = this.form.controls[name];
    return control.invalid && ((control.touched && control.dirty) || this.submitted());
  }

  protected useAccount(account: DemoAccount): void {
    this.form.setValue({ email: account.email, password: account.password });
    void this.submit();
  }

  protected async submit(): Promise<void> {
    this.submitted.set(true);
    if (this.form.invalid) {
      document.getElementById(this.form.controls.email.invalid ? 'email' : 'password')?.focus();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    try {
      const { email, password } = this.form.getRawValue();
      await this.auth.login(email.trim(), password);
      // SessionCoordinator navigates to the dashboard.
    } catch (error) {
      this.error.set(errorMessage(error, 'Sign-in failed.'));
      this.busy.set(false);
    }
  }
}
