/* Fuzz the replicate provider's answer parser and error classifier
 * (lib/provider/replicate.c) with conversations of hostile answers. */
#include "provider.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_prov_init(&prov_replicate, "REPLICATE_API_TOKEN");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_prov_run(data, size);
}
