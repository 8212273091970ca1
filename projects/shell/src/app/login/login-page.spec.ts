import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { ALICE, fakeAuthEnvironment, fakeJwt } from '../../testing/fakes';
import { AUTH_ENVIRONMENT, AuthService } from '../core/auth.service';
import { LoginPage } from './login-page';

describe('LoginPage', () => {
  let fixture: ComponentFixture<LoginPage>;
  let http: HttpTestingController;
  let el: HTMLElement;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), { provide: AUTH_ENVIRONMENT, useValue: fakeAuthEnvironment().env }],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(LoginPage);
    el = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  });

  afterEach(() => http.verify());

  const accounts = [
    { email: 'admin@demo.test', password: 'admin-demo', name: 'Ada Admin', role: 'ADMIN' },
    { email: 'alice@demo.test', password: 'alice-demo', name: 'Alice Customer', role: 'CUSTOMER' },
  ];

  it('lists the demo accounts when the gateway runs in demo mode; one click signs in', async () => {
    http.expectOne('/api/auth/demo-accounts').flush({ accounts });
    await fixture.whenStable();
    const buttons = [...el.querySelectorAll<HTMLButtonElement>('.demo-account')];
    expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual(['Sign in as Ada Admin, ADMIN', 'Sign in as Alice Customer, CUSTOMER']);
    buttons[1]!.click();
    const login = http.expectOne('/api/auth/login');
    expect(login.request.body).toEqual({ email: 'alice@demo.test', password: 'alice-demo' });
    login.flush({ accessToken: fakeJwt(Math.floor(Date.now() / 1000) + 900), refreshToken: 'refresh-token-0001', expiresIn: 900, user: ALICE });
    await fixture.whenStable();
    expect(TestBed.inject(AuthService).user()).toEqual(ALICE);
  });

  it('shows no demo section outside demo mode (404)', async () => {
    http.expectOne('/api/auth/demo-accounts').flush({ error: { code: 'NOT_FOUND', message: 'no' } }, { status: 404, statusText: 'Not Found' });
    await fixture.whenStable();
    expect(el.querySelector('.login__demo')).toBeNull();
  });

  it('labels its fields, flags empty ones, and reports a refused login as an alert', async () => {
    http.expectOne('/api/auth/demo-accounts').flush({ accounts: [] });
    expect(el.querySelector('label[for="email"]')!.textContent).toContain('Email');
    expect(el.querySelector('label[for="password"]')!.textContent).toContain('Password');
    el.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    await fixture.whenStable();
    expect(el.querySelector('#email')!.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('email');
    http.expectNone('/api/auth/login');

    const email = el.querySelector<HTMLInputElement>('#email')!;
    const password = el.querySelector<HTMLInputElement>('#password')!;
    email.value = 'alice@demo.test';
    email.dispatchEvent(new Event('input'));
    password.value = 'wrong';
    password.dispatchEvent(new Event('input'));
    el.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    http
      .expectOne('/api/auth/login')
      .flush({ error: { code: 'UNAUTHORIZED', message: 'invalid email or password' } }, { status: 401, statusText: 'Unauthorized' });
    await new Promise((r) => setTimeout(r));
    await fixture.whenStable();
    expect(el.querySelector('[role="alert"]')!.textContent).toContain('Invalid email or password');
  });
});
