import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { ALICE, ADA, fakeAuthEnvironment, fakeJwt } from '../../testing/fakes';
import { AUTH_ENVIRONMENT, AuthService, SESSION_STORAGE_KEY, SessionEndedError, type StoredSession } from './auth.service';

describe('AuthService', () => {
  let fake: ReturnType<typeof fakeAuthEnvironment>;
  let http: HttpTestingController;
  const nowSeconds = () => Math.floor(fake.clock() / 1000);

  function setup(stored?: StoredSession): AuthService {
    fake = fakeAuthEnvironment();
    if (stored) fake.storage.setItem(SESSION_STORAGE_KEY, JSON.stringify(stored));
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), { provide: AUTH_ENVIRONMENT, useValue: fake.env }],
    });
    http = TestBed.inject(HttpTestingController);
    return TestBed.inject(AuthService);
  }

  const session = (accessToken: string, refreshToken = 'refresh-token-0001', user = ALICE): StoredSession => ({
    accessToken,
    refreshToken,
    expiresAt: JSON.parse(atob(accessToken.split('.')[1]!)).exp * 1000,
    user,
  });

  afterEach(() => http.verify());

  it('logs in, keeps the session in storage for the other tabs, and hands the token to the socket', async () => {
    const auth = setup();
    const access = fakeJwt(nowSeconds() + 900);
    const done = auth.login('alice@demo.test', 'alice-demo');
    const req = http.expectOne('/api/auth/login');
    expect(req.request.body).toEqual({ email: 'alice@demo.test', password: 'alice-demo' });
    req.flush({ accessToken: access, refreshToken: 'refresh-token-0001', expiresIn: 900, user: ALICE });
    expect(await done).toEqual(ALICE);
    expect(auth.user()).toEqual(ALICE);
    expect(auth.socketToken()).toBe(access);
    expect(JSON.parse(fake.storage.getItem(SESSION_STORAGE_KEY)!).accessToken).toBe(access);
  });

  it('returns the stored token while it has life left, without any request', async () => {
    const access = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000) + 60);
    const auth = setup(session(access));
    expect(await auth.validAccessToken()).toBe(access);
  });

  it('refreshes an expired token once for concurrent callers and rotates the refresh token', async () => {
    const old = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000));
    const auth = setup(session(old));
    const socketTokenBefore = auth.socketToken();
    const a = auth.validAccessToken();
    const b = auth.validAccessToken();
    await Promise.resolve();
    const req = http.expectOne('/api/auth/refresh');
    expect(req.request.body).toEqual({ refreshToken: 'refresh-token-0001' });
    const fresh = fakeJwt(nowSeconds() + 900);
    req.flush({ accessToken: fresh, refreshToken: 'refresh-token-0002', expiresIn: 900, user: ALICE });
    expect(await a).toBe(fresh);
    expect(await b).toBe(fresh);
    expect(JSON.parse(fake.storage.getItem(SESSION_STORAGE_KEY)!).refreshToken).toBe('refresh-token-0002');
    // A refresh never reconnects a healthy socket: its token only changes with who is signed in.
    expect(auth.socketToken()).toBe(socketTokenBefore);
  });

  it('uses the token another tab refreshed meanwhile instead of spending the same refresh token twice', async () => {
    const old = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000));
    const auth = setup(session(old));
    const fresh = fakeJwt(nowSeconds() + 900);
    fake.storage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session(fresh, 'refresh-token-0002')));
    expect(await auth.validAccessToken(old)).toBe(fresh);
    http.expectNone('/api/auth/refresh');
  });

  it('ends the session when the gateway refuses the refresh token', async () => {
    const old = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000));
    const auth = setup(session(old));
    const result = auth.validAccessToken();
    await Promise.resolve();
    http.expectOne('/api/auth/refresh').flush({ error: { code: 'UNAUTHORIZED', message: 'refresh token reused' } }, { status: 401, statusText: 'Unauthorized' });
    await expectAsync(result).toBeRejectedWithError(SessionEndedError);
    expect(auth.isSignedIn()).toBeFalse();
    expect(auth.signedOutReason()).toBe('expired');
    expect(fake.storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it("refreshes the socket's live token that the gateway refuses (a restarted gateway), null once the refresh is refused", async () => {
    const live = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000) + 600); // alive at the fake clock's start
    const auth = setup(session(live));
    const result = auth.refreshSocketToken(live);
    await Promise.resolve();
    http.expectOne('/api/auth/refresh').flush({ error: { code: 'UNAUTHORIZED', message: 'unknown refresh token' } }, { status: 401, statusText: 'Unauthorized' });
    expect(await result).toBeNull();
    expect(auth.signedOutReason()).toBe('expired');
  });

  it("rejects the socket's refresh when it cannot be made (the network), and stays signed in", async () => {
    const live = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000) + 600); // alive at the fake clock's start
    const auth = setup(session(live));
    const result = auth.refreshSocketToken(live);
    await Promise.resolve();
    http.expectOne('/api/auth/refresh').error(new ProgressEvent('error'), { status: 0 });
    await expectAsync(result).toBeRejected();
    expect(auth.isSignedIn()).toBeTrue();
  });

  it('follows the other tabs: a sign-out there signs out here, a new user there switches the socket here', () => {
    const access = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000) + 900);
    const auth = setup(session(access));
    const refreshed = fakeJwt(nowSeconds() + 901);
    fake.otherTab(SESSION_STORAGE_KEY, JSON.stringify(session(refreshed, 'refresh-token-0002')));
    expect(auth.accessToken()).toBe(refreshed);
    expect(auth.socketToken()).toBe(access); // same user: no reconnect

    fake.otherTab(SESSION_STORAGE_KEY, null);
    expect(auth.isSignedIn()).toBeFalse();
    expect(auth.signedOutReason()).toBe('elsewhere');
    expect(auth.socketToken()).toBeNull();

    const admin = fakeJwt(nowSeconds() + 900, 'admin_1');
    fake.otherTab(SESSION_STORAGE_KEY, JSON.stringify(session(admin, 'refresh-token-0003', ADA)));
    expect(auth.user()).toEqual(ADA);
    expect(auth.socketToken()).toBe(admin);
  });

  it('logout forgets the session at once and tells the gateway with the access token', async () => {
    const access = fakeJwt(Math.floor(Date.parse('2026-01-01T10:00:00Z') / 1000) + 900);
    const auth = setup(session(access));
    const done = auth.logout();
    expect(auth.isSignedIn()).toBeFalse();
    expect(auth.signedOutReason()).toBe('logout');
    const req = http.expectOne('/api/auth/logout');
    expect(req.request.headers.get('Authorization')).toBe(`Bearer ${access}`);
    req.flush(null, { status: 204, statusText: 'No Content' });
    await done;
  });
});
