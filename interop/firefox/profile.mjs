// A Firefox profile for the interop suites, and Firefox started on it. Firefox runs only inside
// an isolated namespace with a veth pair (interop/isolated --veth): it gathers no ICE
// candidates on loopback alone. The profile's user.js turns off everything that would reach
// out (updates, telemetry, captive portal and connectivity checks, Safe Browsing, remote
// settings, studies, push, prefetching, DNS over HTTPS...): nothing could leave the namespace
// anyway, but no attempt is made either, and startup waits on no timeout. Media prefs give
// the fake camera and microphone without a prompt and plain host candidates (no mDNS names).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const QUIET = {
  // Updates of Firefox, add-ons, search engines, system add-ons, media plugins (OpenH264).
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.blocklist.enabled': false,
  'browser.search.update': false,
  'media.gmp-manager.url': '',
  'media.gmp-manager.updateEnabled': false,
  // Telemetry, health report, studies, experiments, crash reports.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.coverage.opt-out': true,
  'toolkit.coverage.endpoint.base': '',
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'browser.discovery.enabled': false,
  'browser.tabs.crashReporting.sendReport': false,
  // Captive portal and connectivity probes.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'captivedetect.canonicalURL': '',
  // Safe Browsing lists and remote settings (blocklists, CRLite, intermediates).
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'services.settings.server': 'http://127.0.0.1:9/v1',
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,
  'security.OCSP.enabled': 0,
  'security.certerrors.mitm.priming.enabled': false,
  // Region, geolocation, push, accounts, translations, suggestions, new tab content.
  'browser.region.update.enabled': false,
  'browser.region.network.url': '',
  'geo.provider.network.url': '',
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'identity.fxaccounts.enabled': false,
  'browser.translations.enable': false,
  'browser.ml.enable': false,
  'browser.urlbar.quicksuggest.enabled': false,
  'browser.urlbar.suggest.searches': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.topsites': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.default.sites': '',
  'browser.topsites.contile.enabled': false,
  'extensions.pocket.enabled': false,
  // Speculative connections, prefetching, DNS over HTTPS.
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.http.speculative-parallel-limit': 0,
  'browser.urlbar.speculativeConnect.enabled': false,
  'browser.places.speculativeConnect.enabled': false,
  'network.trr.mode': 5,
  // A plain start: no first-run pages, no default-browser check, no session restore.
  'browser.startup.page': 0,
  'browser.startup.homepage': 'about:blank',
  'startup.homepage_welcome_url': '',
  'startup.homepage_welcome_url.additional': '',
  'browser.aboutwelcome.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.sessionstore.resume_from_crash': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'datareporting.policy.firstRunURL': '',
};

const MEDIA = {
  // The fake camera and microphone, granted without a prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // Host candidates with their addresses, not mDNS names (the namespace has no mDNS).
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Remote audio and video play without a user gesture.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
};

/// Writes DIR/user.js with the prefs above and `extra` on top.
export function writeProfile(dir, extra = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const prefs = { ...QUIET, ...MEDIA, ...extra };
  const lines = Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`);
  fs.writeFileSync(path.join(dir, 'user.js'), lines.join('\n') + '\n');
}

/// Starts headless Firefox ESR on profile DIR at URL; its output goes to LOG.
export function startFirefox(dir, url, log) {
  const out = fs.openSync(log, 'a');
  const child = spawn('firefox-esr', ['--headless', '--no-remote', '--profile', dir, url], {
    stdio: ['ignore', out, out],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
    detached: true,
  });
  return child;
}

/// Ends Firefox and every process it started (it runs in its own process group), then
/// removes its profile DIR (tens of MB of caches); resolves when done (3 s at most).
export function stopFirefox(child, dir) {
  const gone = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 3000); });
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  return gone.then(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/// `firefox-esr --version`, e.g. "Mozilla Firefox 153.8.0esr".
export function firefoxVersion() {
  return new Promise((resolve) => {
    const c = spawn('firefox-esr', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    c.stdout.on('data', (d) => { s += d; });
    c.on('close', () => resolve(s.trim()));
    c.on('error', () => resolve(''));
  });
}
