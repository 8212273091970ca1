import { HttpClient } from '@angular/common/http';
import { Component, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { NOTICE_LEVELS, type NoticeLevel } from '@payments-system/protocol';
import { firstValueFrom } from 'rxjs';
import { errorMessage } from '../core/api-error';

/** Admins send a system announcement that every connected user sees as a banner. */
@Component({
  selector: 'app-broadcast-form',
  imports: [ReactiveFormsModule],
  template: `
    <form [formGroup]="form" (ngSubmit)="send()" novalidate class="broadcast-form" aria-labelledby="broadcast-title">
      <h2 id="broadcast-title">Announcement to everyone</h2>
      <div class="broadcast-form__fields">
        <div class="field field--grow">
          <label for="broadcast-message">Message</label>
          <input id="broadcast-message" formControlName="message" maxlength="1000" autocomplete="off"
                 placeholder="Maintenance tonight at 22:00 UTC"
                 [attr.aria-invalid]="submitted() && form.controls.message.invalid" aria-describedby="broadcast-error" />
          @if (submitted() && form.controls.message.invalid) {
            <p id="broadcast-error" class="field__error">Write the message to send.</p>
          }
        </div>
        <div class="field">
          <label for="broadcast-level">Level</label>
          <select id="broadcast-level" formControlName="level">
            @for (level of levels; track level) { <option [value]="level">{{ level }}</option> }
          </select>
        </div>
        <div class="field field--submit">
          <button type="submit" class="btn" [disabled]="busy()" [attr.aria-busy]="busy()">{{ busy() ? 'Sending…' : 'Send' }}</button>
        </div>
      </div>
      @if (error(); as error) { <p class="form-error" role="alert">{{ error }}</p> }
      <p class="visually-hidden" role="status">{{ confirmation() }}</p>
    </form>
  `,
})
export class BroadcastForm {
  private readonly http = inject(HttpClient);
  protected readonly levels = NOTICE_LEVELS;
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly submitted = signal(false);
  protected readonly confirmation = signal('');
  protected readonly form = inject(NonNullableFormBuilder).group({
    message: ['', [Validators.required, Validators.maxLength(1000), Validators.pattern(/\S/)]],
    level: ['info' as NoticeLevel],
  });

  protected async send(): Promise<void> {
    this.submitted.set(true);
    this.confirmation.set('');
    if (this.form.invalid) {
      document.getElementById('broadcast-message')?.focus();
      return;
    }
    const { message, level } = this.form.getRawValue();
    this.busy.set(true);
    this.error.set(null);
    try {
      await firstValueFrom(
        this.http.post('/api/events', { room: 'broadcast', type: 'system:broadcast', payload: { message: message.trim(), level } }),
      );
      this.form.reset({ message: '', level });
      this.submitted.set(false);
      this.confirmation.set('Announcement sent.');
    } catch (error) {
      this.error.set(errorMessage(error, 'The announcement was not sent.'));
    } finally {
      this.busy.set(false);
    }
  }
}
