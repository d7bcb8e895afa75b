/* cost: what a result was charged (doc/contract.md, result `cost`). */
#ifndef BG_COST_H
#define BG_COST_H

/* What an attempt that returned `images` images is charged at the job's
 * price_per_image: price × images, rounded to 1e-9 so that sums over a
 * batch print as the prices do.  0 for no image or a price that is not
 * a finite positive number.  Cached answers and uncharged failures cost
 * 0: callers pass images = 0 for them. */
double cost_charged(double price_per_image, int images);

#endif
