/**
 * Preloaded into a gateway process under test (`node --import`): its clock (`Date.now`, which the
 * gateway's token checks and token expiry read) runs ahead by what the test sends over IPC, so a
 * test can expire a token without racing a short one against the handshake.
 *   child.send({ advanceClockSeconds: 61 })  →  the child answers { clockAdvancedSeconds: 61 }
 */
const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;

process.on('message', (message: unknown) => {
  if (typeof message !== 'object' || message === null || !('advanceClockSeconds' in message)) return;
  const seconds = Number(message.advanceClockSeconds);
  offsetMs += seconds * 1000;
  process.send?.({ clockAdvancedSeconds: offsetMs / 1000 });
});
// The IPC channel must not keep a gateway alive that would otherwise exit.
process.channel?.unref();
