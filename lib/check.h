/* check: bg-generate --check and --list-models.  One cheap GET per
 * provider+model, before any spend: the key is accepted, the model
 * exists and can make images (lib/provider.h model_req/model_ans). */
#ifndef BG_CHECK_H
#define BG_CHECK_H

#include "engine.h"
#include "ndjson.h"

/* Check c->provider with c->model (or its default), or else every
 * provider+model the job records of r name.  One line per pair on
 * stdout when usable; stderr says why when not.  Returns the exit
 * status: 0 all usable, 2 one is not. */
int check_run(const struct engine_conf *c, struct nd_reader *r);
/* Print the image models c->provider's key can use, one a line (with
 * the model table's shutdown date when there is one).  Exit status. */
int check_list(const struct engine_conf *c);

#endif
