import { HttpErrorResponse } from '@angular/common/http';

/** A message a person can read, from the gateway's `{error:{code,message}}` body or the failure itself. */
export function errorMessage(error: unknown, fallback = 'Something went wrong. Please try again.'): string {
  if (error instanceof HttpErrorResponse) {
    if (error.status === 0) return 'The server cannot be reached. Check your connection and try again.';
    const body = error.error as { error?: { message?: unknown } } | null;
    const message = body?.error?.message;
    if (typeof message === 'string' && message.length > 0) return capitalize(message);
    return `${fallback} (HTTP ${error.status})`;
  }
  if (error instanceof Error && error.message) return error.message;
  return fallback;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
