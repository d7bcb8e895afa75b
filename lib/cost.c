/* cost: price × images, in one place for sync and provider batch mode. */
#include <math.h>

#include "cost.h"

double
cost_charged(double price, int images)
{
	if (images <= 0 || !isfinite(price) || price <= 0)
		return 0;
	return round(price * images * 1e9) / 1e9;
}
