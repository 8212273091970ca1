import { Component, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { AuthService } from './auth.service';

@Component({
  selector: 'app-login-page',
  template: `
    <form (submit)="$event.preventDefault(); signIn(email.value, password.value)">
      <input #email type="email" aria-label="Email" value="alice@demo.test" />
      <input #password type="password" aria-label="Password" value="alice-demo" />
      <button type="submit">Sign in</button>
      @if (error(); as error) { <p role="alert">{{ error }}</p> }
    </form>
  `,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly error = signal('');

  protected async signIn(email: string, password: string): Promise<void> {
    try {
      await this.auth.signIn(email, password);
      await this.router.navigateByUrl('/');
    } catch (e) {
      this.error.set(e instanceof Error ? e.message : String(e));
    }
  }
}
