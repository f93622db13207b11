/* Wrapper for `c fragment=engine` blocks: an `engine` (HS256), freed after the block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keyfob.h"

int main(void) {
    const char *config = "{\"signing_key\": \"change-me-to-32-or-more-random-bytes!\"}";
    keyfob_engine *engine = NULL;
    if (keyfob_engine_new((const uint8_t *)config, strlen(config), &engine) != KEYFOB_OK) {
        return 1;
    }
    BLOCK
    keyfob_engine_free(engine);
    return 0;
}
