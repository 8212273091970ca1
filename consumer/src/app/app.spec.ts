import { TestBed } from '@angular/core/testing';
import { provideRealtime } from '@payments-system/realtime';
import { provideRealtimeTesting } from '@payments-system/realtime/testing';
import { App } from './app';

describe('App', () => {
  beforeEach(async () => {
    await TestBed.configureTestingModule({
      imports: [App],
      // App renders <app-connection-status>, which injects RealtimeService: without these two, NG0201.
      providers: [provideRealtime({ url: '/ws', token: 'test-token' }), provideRealtimeTesting()],
    }).compileComponents();
  });

  it('should create the app', () => {
    const fixture = TestBed.createComponent(App);
    const app = fixture.componentInstance;
    expect(app).toBeTruthy();
  });

  it('should render title', async () => {
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const compiled = fixture.nativeElement as HTMLElement;
    expect(compiled.querySelector('h1')?.textContent).toContain('Hello, consumer');
  });
});
