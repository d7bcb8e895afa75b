// node review.js PAGE OUTDIR: drive the review page of bg-report --html in
// chromium: approve two images, reject one with a note, check the counts and
// filters, download decisions.ndjson into OUTDIR, reload and see the
// decisions kept, pick a best, run the accessibility rules.
//   node review.js --merged PAGE   a page written with --decisions, in a
//                                  fresh browser: decided from the file
//   node review.js --hostile PAGE  hostile titles stay text
//   node review.js --refresh PAGE  a page that reloads itself (a running
//                                  batch) keeps a decision across reloads
'use strict';
const fs = require('fs');
const path = require('path');
const { ok, is, done, launch, open, axe } = require('./lib.js');

const url = p => 'file://' + path.resolve(p);
const decisionOf = (page, i) => page.locator('figure[data-job-id]').nth(i)
	.getAttribute('data-decision');
const counts = page => page.evaluate(() => {
	const c = {};
	document.querySelectorAll('[data-count]').forEach(e => {
		c[e.getAttribute('data-count')] = +e.textContent;
	});
	return c;
});
const visibleCards = page => page.evaluate(() =>
	[...document.querySelectorAll('.card')].filter(c => !c.hidden).length);

async function review(page, out) {
	const figs = page.locator('figure[data-job-id]');
	const n = await figs.count();
	ok(n >= 4, 'review: generated images have data-job-id (' + n + ')');
	await page.waitForSelector('figure[data-job-id] .acts');
	is(await figs.first().locator('button[data-action]').evaluateAll(b => b.map(x => x.getAttribute('data-action'))),
		['approve', 'reject', 'best'], 'review: each image in view has its three buttons');
	const ids = [];
	for (let i = 0; i < 3; i++)
		ids.push({ job_id: await figs.nth(i).getAttribute('data-job-id'),
			sha256: await figs.nth(i).getAttribute('data-sha256') });
	// image 0 by its button, image 1 by keyboard, image 2 rejected + note
	await figs.nth(0).locator('[data-action=approve]').click();
	await figs.nth(0).focus();
	await page.keyboard.press('ArrowRight');
	is(await page.evaluate(() => document.activeElement.getAttribute('data-job-id')),
		ids[1].job_id, 'review: ArrowRight moves to the next image');
	await page.keyboard.press('a');
	await figs.nth(2).locator('.note').fill('too dark, "retry"');
	await figs.nth(2).locator('[data-action=reject]').click();
	is([await decisionOf(page, 0), await decisionOf(page, 1), await decisionOf(page, 2)],
		['approved', 'approved', 'rejected'], 'review: data-decision set');
	is(await figs.nth(2).locator('[data-action=reject]').getAttribute('aria-pressed'),
		'true', 'review: the pressed button says so (aria-pressed)');
	const c = await counts(page);
	is([c.approved, c.rejected, c.undecided], [2, 1, n - 3], 'review: counts follow');

	const cards = await page.locator('.card').count();
	const card0 = await figs.nth(0).evaluate(f => f.closest('.card').getAttribute('data-variant-id'));
	await page.click('nav button[data-f=rejected]');
	is(await visibleCards(page), 1, 'review: the rejected filter shows one card');
	await page.click('nav button[data-f=approved]');
	const card1 = await figs.nth(1).evaluate(f => f.closest('.card').getAttribute('data-variant-id'));
	is(await visibleCards(page), new Set([card0, card1]).size, 'review: the approved filter shows the approved images\' cards');
	await page.click('nav button[data-f=undecided]');
	ok(await visibleCards(page) < cards && await visibleCards(page) > 0,
		'review: the undecided filter hides fully decided cards');
	await page.click('nav button[data-f=all]');
	is(await visibleCards(page), cards, 'review: all shows every card');

	const [dl] = await Promise.all([page.waitForEvent('download'),
		page.click('[data-action=download-decisions]')]);
	is(dl.suggestedFilename(), 'decisions.ndjson', 'review: download is named decisions.ndjson');
	const file = path.join(out, 'decisions.ndjson');
	await dl.saveAs(file);
	const lines = fs.readFileSync(file, 'utf8').split('\n');
	is(lines.pop(), '', 'review: the file ends with a newline');
	is(lines.length, 3, 'review: one line per decided image');
	const recs = lines.map(l => JSON.parse(l));
	is(Object.keys(recs[0]), ['job_id', 'variant_id', 'product_id', 'batch_id',
		'sha256', 'decision', 'best', 'note', 'decided_at'], 'review: the fields of a decision');
	is(recs.map(r => [r.job_id, r.sha256, r.decision, r.best]),
		ids.map((x, i) => [x.job_id, x.sha256, i < 2 ? 'approved' : 'rejected', false]),
		'review: the lines name the decided images');
	is(recs[2].note, 'too dark, "retry"', 'review: the note is kept');
	ok(recs.every(r => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(r.decided_at)),
		'review: decided_at is an ISO time');
	ok(recs.every(r => r.batch_id && r.variant_id), 'review: batch and variant ids filled');

	await page.reload();
	is([await decisionOf(page, 0), await decisionOf(page, 1), await decisionOf(page, 2)],
		['approved', 'approved', 'rejected'], 'review: decisions survive a reload');
	is(await figs.nth(2).locator('.note').inputValue(), 'too dark, "retry"',
		'review: the note survives a reload');
	const c2 = await counts(page);
	is([c2.approved, c2.rejected], [2, 1], 'review: counts after the reload');

	// best of the variant: one per card; it approves
	await figs.nth(1).locator('[data-action=best]').click();
	await figs.nth(0).focus();
	await page.keyboard.press('b');
	is([await figs.nth(0).getAttribute('data-best'), await figs.nth(1).getAttribute('data-best')],
		card0 === card1 ? ['true', null] : ['true', 'true'],
		'review: best is one per variant');
	// undo: approving an approved image again clears it
	await figs.nth(3).locator('[data-action=approve]').click();
	await figs.nth(3).locator('[data-action=approve]').click();
	is(await decisionOf(page, 3), null, 'review: a second click takes the decision back');

	const v = await axe(page);
	ok(v.length === 0, 'review: axe finds no label, contrast or ARIA problem', v.join('; '));
	// and the check can fail: a pale text and an unlabelled field
	await page.evaluate(() => document.querySelector('.card').insertAdjacentHTML('beforeend',
		'<p style="color:#ccc">pale</p><input type="text">'));
	const bad = (await axe(page)).map(x => x.split(' ')[0]).sort();
	is(bad, ['color-contrast', 'label'], 'review: axe catches a pale text and an unlabelled field');
}

async function merged(page) {
	const d = await page.evaluate(() => [...document.querySelectorAll('figure[data-decision]')]
		.map(f => f.getAttribute('data-decision')));
	is(d, ['approved', 'approved', 'rejected'], 'merged: the file\'s decisions shown in a fresh browser');
	await page.waitForSelector('figure[data-decision=rejected] .note');
	is(await page.locator('figure[data-decision=rejected] .note').inputValue(), 'too dark, "retry"',
		'merged: the note from the file is in the field');
	is(await page.locator('figure[data-decision=approved] [data-action=approve]').first().getAttribute('aria-pressed'),
		'true', 'merged: the Approve button is pressed');
	const c = await counts(page);
	is([c.approved, c.rejected], [2, 1], 'merged: counts include the file\'s decisions');
}

async function refresh(page) {
	const f = page.locator('figure[data-job-id]').first();
	await page.evaluate(() => { window.bgMark = 1; });
	await f.locator('[data-action=reject]').click();
	await f.locator('.note').fill('typed before the refresh');
	// a new document has no mark: poll across the navigation
	let reloaded = false;
	for (let i = 0; i < 150 && !reloaded; i++) {
		await new Promise(r => setTimeout(r, 100));
		reloaded = await page.evaluate(() => !window.bgMark &&
			document.documentElement.getAttribute('data-review') === 'ready').catch(() => false);
	}
	ok(reloaded, 'refresh: the page reloaded itself');
	await page.waitForSelector('figure[data-job-id] .note');
	is(await page.locator('figure[data-job-id]').first().getAttribute('data-decision'), 'rejected',
		'refresh: the decision survives the page\'s own reload');
	is(await page.locator('figure[data-job-id]').first().locator('.note').inputValue(),
		'typed before the refresh', 'refresh: so does the note');
}

async function hostile(page) {
	const pwned = await page.evaluate(() => window.pwned);
	is(pwned, undefined, 'hostile: no script from a record ran');
	const t = await page.locator('.card h3').first().textContent();
	ok(t.includes('<script>'), 'hostile: the title is shown as text', t);
	const a = await page.locator('figure[data-job-id]').first().getAttribute('aria-label');
	ok(a.includes('<script>'), 'hostile: the image label is the title as text', a);
}

(async () => {
	const mode = process.argv[2];
	const browser = await launch();
	try {
		const ctx = await browser.newContext({ acceptDownloads: true });
		const target = mode.startsWith('--') ? process.argv[3] : mode;
		const page = await open(ctx, url(target));
		await page.waitForSelector('html[data-review=ready]');
		if (mode === '--merged') await merged(page);
		else if (mode === '--hostile') await hostile(page);
		else if (mode === '--refresh') await refresh(page);
		else await review(page, process.argv[3]);
		is(page.errors, [], 'browser: no console errors');
		is(page.remote, [], 'browser: no request leaves file://');
	} catch (e) {
		ok(false, 'browser test ran', e.stack);
	} finally {
		await browser.close();
	}
	done();
})();
