/* Fuzz the openai provider's answer parser and error classifier
 * (lib/provider/openai.c) with conversations of hostile answers. */
#include "provider.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_prov_init(&prov_openai, "OPENAI_API_KEY");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_prov_run(data, size);
}
