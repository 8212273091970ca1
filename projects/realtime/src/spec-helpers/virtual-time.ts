import { TestBed } from '@angular/core/testing';

/**
 * Jasmine's mock clock, at `at`, for every spec of the calling suite; the TestBed is reset before the clock is
 * uninstalled, so the service under test is destroyed (and disconnects) in virtual time. Call it inside `describe`.
 */
export function useVirtualTime(at: string): jasmine.Clock {
  const clock = jasmine.clock(); // one clock per jasmine environment
  beforeEach(() => {
    clock.install();
    clock.mockDate(new Date(at));
  });
  afterEach(() => {
    TestBed.resetTestingModule();
    clock.uninstall();
  });
  return clock;
}
