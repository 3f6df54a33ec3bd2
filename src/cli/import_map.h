/* callbar import --map: any CSV with a header, through a column map
 * (import_map.c). */
#ifndef CALLBAR_CLI_IMPORT_MAP_H
#define CALLBAR_CLI_IMPORT_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "registry.h"

/* Import text[0..len) (the file path, for messages) with the map spec;
 * the registry is opened here.  Returns the exit status. */
int cbar_import_mapped(struct reg *r, const char *path, char *text, size_t len, const char *spec,
                       bool skip_bad);

#endif
