/** A payment and its state machine: the shared contract from the protocol package. */
export {
  canTransitionPayment as canTransition,
  TERMINAL_PAYMENT_STATUSES as TERMINAL_STATUSES,
  type Payment,
} from '@payments-system/protocol';
