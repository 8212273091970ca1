import { paymentUpdated } from '../../spec-helpers/server-messages';
import { EventCursor } from './event-cursor';

describe('EventCursor (resume and dedupe)', () => {
  it('accepts newer ids, drops ids at or below the last one, compared as event ids (not strings)', () => {
    const cursor = new EventCursor();
    const ids = ['1765447200000-9', '1765447200000-10', '1765447200000-10', '1765447200000-2', '1765447200001-0'];
    const accepted = ids.filter((id) => cursor.accept(paymentUpdated('p1', 'completed', id)));
    expect(accepted).toEqual(['1765447200000-9', '1765447200000-10', '1765447200001-0']);
    expect(cursor.lastEventId).toBe('1765447200001-0');
  });

  it('lets events without an id through without moving', () => {
    const cursor = new EventCursor();
    const withoutId = { ...paymentUpdated('p1'), id: undefined };
    expect(cursor.accept(withoutId)).toBeTrue();
    expect(cursor.accept(withoutId)).toBeTrue();
    expect(cursor.lastEventId).toBeNull();
  });

  it('asks for a position before the first event, then resumes from the last one', () => {
    const cursor = new EventCursor();
    expect(cursor.resumeMessage('r1')).toEqual({ type: 'resume', payload: {}, correlationId: 'r1' });
    cursor.accept(paymentUpdated('p1', 'completed', '1765447200000-4'));
    expect(cursor.resumeMessage('r2')).toEqual({ type: 'resume', payload: { since: '1765447200000-4' }, correlationId: 'r2' });
  });

  it('advances to a position only forward, and drops events at or below it', () => {
    const cursor = new EventCursor();
    cursor.advance('1765447200000-5');
    expect(cursor.lastEventId).toBe('1765447200000-5');
    cursor.advance('1765447200000-3'); // a replay's end, older than what was seen
    expect(cursor.lastEventId).toBe('1765447200000-5');
    expect(cursor.accept(paymentUpdated('p1', 'completed', '1765447200000-5'))).toBeFalse();
    expect(cursor.accept(paymentUpdated('p1', 'completed', '1765447200000-6'))).toBeTrue();
    cursor.advance('1765447200001-0');
    expect(cursor.lastEventId).toBe('1765447200001-0');
  });
});
