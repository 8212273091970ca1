import { createActionGroup, emptyProps, props } from '@ngrx/store';
import type { Payment, PaymentStatus } from '@payments-system/protocol';
import type { NewPayment } from '../core/api.types';

/** What the person did on the dashboard. */
export const PaymentsPageActions = createActionGroup({
  source: 'Payments Page',
  events: {
    Opened: emptyProps(),
    'Create Submitted': props<{ payment: NewPayment }>(),
    'Status Change Submitted': props<{ paymentId: string; status: PaymentStatus }>(),
  },
});

/** Answers of the gateway's HTTP API. */
export const PaymentsApiActions = createActionGroup({
  source: 'Payments API',
  events: {
    'Load Succeeded': props<{ payments: readonly Payment[] }>(),
    'Load Failed': props<{ message: string }>(),
    'Create Succeeded': props<{ payment: Payment }>(),
    'Create Failed': props<{ message: string }>(),
    'Status Change Succeeded': props<{ payment: Payment }>(),
    'Status Change Failed': props<{ paymentId: string; message: string }>(),
  },
});

/** Housekeeping of the dashboard. */
export const PaymentsUiActions = createActionGroup({
  source: 'Payments UI',
  events: {
    /** The live connection came back after a loss: load the list again, events may have been missed. */
    'Resync Requested': emptyProps(),
    /** The "just changed" highlight of a row ends. `changeId` ties it to one change. */
    'Highlight Expired': props<{ paymentId: string; changeId: string }>(),
  },
});

/** Who is signed in changed. */
export const SessionActions = createActionGroup({
  source: 'Session',
  events: {
    'Signed In': props<{ userId: string }>(),
    'Signed Out': emptyProps(),
  },
});
