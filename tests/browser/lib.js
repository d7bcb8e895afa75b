// Shared by the browser tests and benchmarks: launch Debian's chromium
// through playwright-core (DevTools protocol), print TAP-style lines that
// tests/run.sh counts, and run axe-core's label and contrast rules.
'use strict';
const { chromium } = require('playwright-core');

let failures = 0;
function ok(cond, name, why) {
	if (cond) console.log('ok - ' + name);
	else { failures++; console.log('not ok - ' + name + (why ? ': ' + why : '')); }
	return cond;
}
function is(got, want, name) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	return ok(g === w, name, 'got ' + g + ', want ' + w);
}
function done() { process.exitCode = failures ? 1 : 0; }

async function launch() {
	return chromium.launch({
		executablePath: process.env.BG_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-quic', '--no-first-run',
			'--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
}

// A page that records console errors, uncaught exceptions and every
// request that is not file: or blob: (the pages must work offline).
async function open(ctx, url) {
	const page = await ctx.newPage();
	page.errors = [];
	page.remote = [];
	page.on('console', m => { if (m.type() === 'error') page.errors.push(m.text()); });
	page.on('pageerror', e => page.errors.push(String(e)));
	page.on('request', r => {
		if (!/^(file|blob|data):/.test(r.url())) page.remote.push(r.url());
	});
	await page.goto(url);
	return page;
}

// axe-core rules about names (labels, buttons, images, links), contrast,
// and ARIA use; returns the violations in short form.
async function axe(page) {
	await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
	return page.evaluate(async () => {
		const r = await window.axe.run(document, { runOnly: { type: 'rule', values: [
			'color-contrast', 'label', 'button-name', 'image-alt',
			'link-name', 'input-button-name', 'aria-allowed-attr',
			'aria-valid-attr-value', 'aria-required-attr',
			'document-title', 'html-has-lang', 'duplicate-id-aria',
			'nested-interactive', 'aria-toggle-field-name'] } });
		return r.violations.map(v => v.id + ' (' + v.nodes.length + ', e.g. ' +
			v.nodes[0].target.join(' ') + ': ' +
			(v.nodes[0].failureSummary || '').replace(/\s+/g, ' ').slice(0, 160) + ')');
	});
}

module.exports = { ok, is, done, launch, open, axe };
