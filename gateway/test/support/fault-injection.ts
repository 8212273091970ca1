/**
 * Preloaded into a gateway process by the process-policy tests (`node --import`): on a message
 * over IPC it throws outside any handler, or leaves a rejected promise nobody handles, the two
 * faults the process policy is about.
 */
process.on('message', (message) => {
  if (message === 'throw') {
    setImmediate(() => {
      throw new Error('injected fault');
    });
  } else if (message === 'reject') {
    void Promise.reject(new Error('injected rejection'));
  }
});
// The IPC channel must not keep a gateway alive that would otherwise exit.
process.channel?.unref();
