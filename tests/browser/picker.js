// node picker.js PAGE OUTDIR VARIANT: drive the picker page of
// bg-candidates --html in chromium: in VARIANT's row uncheck the default,
// check two others; the 1 to 4 rule holds; download selection.ndjson into
// OUTDIR; run the accessibility rules.  Prints the urls chosen for VARIANT
// as a "# chosen" line for the shell test.
'use strict';
const fs = require('fs');
const path = require('path');
const { ok, is, done, launch, open, axe } = require('./lib.js');

async function picker(page, out, vid) {
	const rows = page.locator('section.row[data-variant-id]');
	const nrows = await rows.count();
	const row = page.locator(`section.row[data-variant-id="${vid}"]`);
	const boxes = row.locator('input[type=checkbox][data-url]');
	const urls = await boxes.evaluateAll(b => b.map(x => x.getAttribute('data-url')));
	const checked = await boxes.evaluateAll(b => b.filter(x => x.checked).map(x => x.getAttribute('data-url')));
	ok(urls.length >= 3, 'picker: the row offers several images (' + urls.length + ')');
	is(checked.length, 1, 'picker: the default selection is checked');
	const others = urls.filter(u => u !== checked[0]).slice(0, 2);
	await row.locator(`input[data-url="${checked[0]}"]`).uncheck();
	is(await row.getAttribute('data-count'), '0', 'picker: unchecking leaves none');
	// a row with none selected stops the download
	await page.click('[data-action=download-selection]');
	ok(/no image selected/.test(await page.locator('.msg').textContent()),
		'picker: download refused while a row has no image');
	for (const u of others) await row.locator(`input[data-url="${u}"]`).check();
	is(await row.getAttribute('data-count'), '2', 'picker: two checked');

	// the rule caps a row at 4: a fifth box is disabled
	const big = await rows.evaluateAll(rs => rs.map(r => r.querySelectorAll('input[data-url]').length));
	const bi = big.findIndex(n => n >= 5);
	if (bi >= 0) {
		const b = rows.nth(bi).locator('input[data-url]');
		const was = await b.evaluateAll(x => x.map(y => y.checked));
		for (let i = 0; i < 4; i++) await b.nth(i).check();
		ok(await b.nth(4).isDisabled(), 'picker: a fifth image cannot be checked');
		for (let i = 0; i < 4; i++) await b.nth(i).setChecked(was[i]);
		ok(!(await b.nth(4).isDisabled()), 'picker: unchecking frees the box again');
	} else {
		ok(true, 'picker: no row with 5 images to test the cap on');
	}

	const [dl] = await Promise.all([page.waitForEvent('download'),
		page.click('[data-action=download-selection]')]);
	is(dl.suggestedFilename(), 'selection.ndjson', 'picker: download is named selection.ndjson');
	const file = path.join(out, 'selection.ndjson');
	await dl.saveAs(file);
	const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map(l => JSON.parse(l));
	is(lines.length, nrows, 'picker: one line per variant');
	is(Object.keys(lines[0]), ['variant_id', 'product_id', 'selected'], 'picker: the fields of a line');
	is(lines.find(l => l.variant_id === vid).selected, others, 'picker: the chosen images, in the order checked');
	ok(lines.every(l => l.selected.length >= 1 && l.selected.length <= 4), 'picker: 1 to 4 images per line');
	console.log('# chosen ' + JSON.stringify(others));

	const v = await axe(page);
	ok(v.length === 0, 'picker: axe finds no label, contrast or ARIA problem', v.join('; '));
}

(async () => {
	const [target, out, vid] = process.argv.slice(2);
	const browser = await launch();
	try {
		const ctx = await browser.newContext({ acceptDownloads: true });
		const page = await open(ctx, 'file://' + path.resolve(target));
		await page.waitForSelector('html[data-picker=ready]');
		await picker(page, out, vid);
		is(page.errors, [], 'picker: no console errors');
		is(page.remote, [], 'picker: no request leaves file://');
	} catch (e) {
		ok(false, 'picker test ran', e.stack);
	} finally {
		await browser.close();
	}
	done();
})();
