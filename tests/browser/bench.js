// node bench.js REVIEW_PAGE [PICKER_PAGE]: load big pages in chromium and
// measure what a person feels: time to a usable page, the DOM size, the
// layout and style work (DevTools Performance metrics), and the cost of a
// decision, a filter and a download.  Exit 1 when a page takes 2 s or more.
'use strict';
const path = require('path');
const { launch } = require('./lib.js');

async function metrics(cdp) {
	const m = {};
	for (const x of (await cdp.send('Performance.getMetrics')).metrics) m[x.name] = x.value;
	return m;
}

// The best of three loads: the machine is shared, and the best run is the
// one least disturbed by other work.
async function load(ctx, file, ready) {
	let best = null;
	for (let i = 0; i < 3; i++) {
		const r = await load1(ctx, file, ready);
		if (best && r.ms >= best.ms) { await r.page.close(); continue; }
		if (best) await best.page.close();
		best = r;
	}
	const { t, m } = best;
	console.log(`${path.basename(file)}: usable (DOMContentLoaded) at ${t.dcl.toFixed(0)} ms ` +
		`(best of 3), load ${t.load.toFixed(0)} ms, painted by ${t.paint.toFixed(0)} ms; ${t.nodes} elements`);
	console.log(`  main-thread work ${(m.TaskDuration * 1000).toFixed(0)} ms: ` +
		`${m.LayoutCount} layouts (${(m.LayoutDuration * 1000).toFixed(0)} ms), ` +
		`${m.RecalcStyleCount} style recalcs (${(m.RecalcStyleDuration * 1000).toFixed(0)} ms), ` +
		`script ${(m.ScriptDuration * 1000).toFixed(0)} ms`);
	return best;
}

async function load1(ctx, file, ready) {
	const page = await ctx.newPage();
	const cdp = await ctx.newCDPSession(page);
	await cdp.send('Performance.enable');
	await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
	await page.waitForSelector(ready);
	// the page's script is the last thing in <body>: usable at
	// DOMContentLoaded; first paint follows
	const t = await page.evaluate(() => new Promise(res => requestAnimationFrame(() => setTimeout(() => {
		const n = performance.getEntriesByType('navigation')[0];
		res({ dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, paint: performance.now(),
			nodes: document.getElementsByTagName('*').length });
	}, 0))));
	const m = await metrics(cdp);
	return { page, cdp, ms: t.dcl, m, t };
}

async function timed(label, n, fn) {
	const t0 = Date.now();
	for (let i = 0; i < n; i++) await fn(i);
	const ms = (Date.now() - t0) / n;
	console.log(`  ${label}: ${ms.toFixed(1)} ms each (${n} runs)`);
}

(async () => {
	const [review, picker] = process.argv.slice(2);
	const browser = await launch();
	let slow = 0;
	try {
		const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
		const r = await load(ctx, review, 'html[data-review=ready]');
		slow += r.ms >= 2000;
		const p = r.page;
		const before = await metrics(r.cdp);
		// decisions by the page's own handlers, as a click would run them
		await timed('approve by key a (handler, counts, storage)', 200, i => p.evaluate(k =>
			document.querySelectorAll('figure[data-job-id]')[k].dispatchEvent(
				new KeyboardEvent('keydown', { key: 'a', bubbles: true })), i * 7));
		await timed('approve by click in view', 20, i => p.locator('figure[data-job-id]').nth(i + 1)
			.locator('[data-action=approve]').click());
		await timed('filter undecided/all', 10, i => p.evaluate(k =>
			document.querySelector(`nav button[data-f=${k % 2 ? 'all' : 'undecided'}]`).click(), i));
		await p.locator('figure[data-job-id]').first().focus();
		await timed('arrow key to the next image', 100, () => p.keyboard.press('ArrowRight'));
		const after = await metrics(r.cdp);
		console.log(`  during those: ${after.LayoutCount - before.LayoutCount} layouts, ` +
			`${after.RecalcStyleCount - before.RecalcStyleCount} style recalcs`);
		await timed('download decisions (200 lines)', 3, () => Promise.all([
			p.waitForEvent('download'), p.click('[data-action=download-decisions]')]));
		if (picker) {
			const k = await load(ctx, picker, 'html[data-picker=ready]');
			slow += k.ms >= 2000;
			await timed('check a box', 50, i => k.page.evaluate(n =>
				document.querySelectorAll('section.row')[n].querySelector('input[data-url]:not(:checked)').click(), i));
		}
	} finally {
		await browser.close();
	}
	const la = require('os').loadavg()[0].toFixed(1);
	console.log((slow ? 'a page took 2 s or more: goal missed' : 'every page usable in under 2 s (goal)') +
		` (load average ${la} on ${require('os').cpus().length} CPUs)`);
	process.exitCode = slow ? 1 : 0;
})();
