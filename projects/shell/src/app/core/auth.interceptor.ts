import { HttpErrorResponse, type HttpInterceptorFn, type HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, from, switchMap, throwError } from 'rxjs';
import { AuthService } from './auth.service';

const withBearer = (request: HttpRequest<unknown>, token: string) =>
  request.clone({ setHeaders: { Authorization: `Bearer ${token}` } });

/**
 * Adds the access token to API calls (not to /api/auth/*, which AuthService makes itself). A token about to expire
 * is refreshed first; a 401 refreshes once and retries, so token expiry stays invisible to the user.
 */
export const authInterceptor: HttpInterceptorFn = (request, next) => {
  if (!request.url.startsWith('/api/') || request.url.startsWith('/api/auth/')) return next(request);
  const auth = inject(AuthService);
  const session = auth.session();
  if (!session) return next(request);
  const token$ = session.expiresAt - Date.now() > 1000 ? from([session.accessToken]) : from(auth.validAccessToken());
  return token$.pipe(
    switchMap((token) =>
      next(withBearer(request, token)).pipe(
        catchError((error: unknown) => {
          if (!(error instanceof HttpErrorResponse) || error.status !== 401) return throwError(() => error);
          return from(auth.validAccessToken(token)).pipe(switchMap((fresh) => next(withBearer(request, fresh))));
        }),
      ),
    ),
  );
};
