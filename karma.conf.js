// Karma for every Angular project of the workspace.
// Starts the real gateway before Karma and serves its control API same-origin (testing/gateway-control.js).
const path = require('path');
const { CHROMIUM_FLAGS, CHROMIUM_PATH } = require('./testing/chromium');
process.env.CHROME_BIN = CHROMIUM_PATH; // what karma-chrome-launcher starts
const { createGatewayControl } = require('./testing/gateway-control');

module.exports = async function (config) {
  // async config is fine: @angular/build parses it with promiseConfig: true.
  const gateway = await createGatewayControl(); // throws (and so fails `ng test`) when the gateway cannot start

  function gatewayFramework(emitter, logger) {
    const log = logger.create('gateway');
    log.info(`real gateway at ${gateway.wsUrl}`);
    emitter.on('exit', (done) => {
      gateway.close().then(
        () => done(),
        (err) => {
          log.error(err);
          done();
        },
      );
    });
  }
  gatewayFramework.$inject = ['emitter', 'logger'];

  function gatewayControlMiddleware() {
    return gateway.middleware;
  }

  function summaryReporter(baseReporterDecorator) {
    // A plain closing line that CI can grep.
    baseReporterDecorator(this);
    this.onRunComplete = (browsers, results) => {
      let skipped = 0;
      browsers.forEach((b) => (skipped += b.lastResult.skipped));
      this.write(`\nkarma: ${results.success} passed, ${results.failed} failed, ${skipped} skipped\n`);
    };
    this.onBrowserLog = () => {};
    this.specSuccess = this.specFailure = this.specSkipped = () => {};
  }
  summaryReporter.$inject = ['baseReporterDecorator'];

  config.set({
    basePath: '',
    listenAddress: '127.0.0.1',
    hostname: '127.0.0.1',
    frameworks: ['jasmine', 'gateway'],
    plugins: [
      require('karma-jasmine'),
      require('karma-chrome-launcher'),
      require('karma-coverage'),
      { 'framework:gateway': ['factory', gatewayFramework] },
      { 'middleware:gateway-control': ['factory', gatewayControlMiddleware] },
      { 'reporter:summary': ['type', summaryReporter] },
    ],
    beforeMiddleware: ['gateway-control'],
    client: {
      jasmine: { random: true, timeoutInterval: 20000 },
      clearContext: false,
      gateway: { wsUrl: gateway.wsUrl, control: '/__gateway' },
    },
    coverageReporter: {
      dir: path.join(__dirname, 'coverage'),
      subdir: '.',
      reporters: [{ type: 'html' }, { type: 'text-summary' }],
    },
    reporters: ['progress', 'summary'],
    browsers: ['ChromeHeadlessCI'],
    customLaunchers: {
      ChromeHeadlessCI: {
        base: 'ChromeHeadless',
        flags: [
          ...CHROMIUM_FLAGS,
          // Only here: playwright-core passes its own --disable-features, which a second one would replace.
          '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,AutofillServerCommunication',
        ],
      },
    },
    captureTimeout: 60000,
    // One spec runs a minute (in-band refresh of 5-second tokens) and reports nothing meanwhile.
    browserNoActivityTimeout: 120000,
    restartOnFileChange: true,
  });
};
