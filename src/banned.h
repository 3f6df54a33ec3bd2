/*
 * callbar: functions the code may not call, refused at compile time (after
 * git's banned.h).  Every callbar source is compiled with this header
 * forced in first (CMakeLists.txt: -include src/banned.h).
 *
 * Why each one:
 *   strcpy, strcat, sprintf, gets: no bound on what they write;
 *   strncat: a bound easy to get wrong by one, and no NUL guarantee to rely on;
 *   atoi: no error for "12x" or overflow (use strtol with an end pointer and
 *         bounds, or a bounded digit loop);
 *   strtok: hidden state, not for threads.
 * Use snprintf, memcpy with a checked length, and explicit parsers instead.
 *
 * The headers that declare them are read first, so their declarations are
 * untouched; only a call written after this point fails.
 */
#ifndef CALLBAR_BANNED_H
#define CALLBAR_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CBAR__BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) CBAR__BANNED(strcpy)
#undef strcat
#define strcat(x, y) CBAR__BANNED(strcat)
#undef strncat
#define strncat(x, y, n) CBAR__BANNED(strncat)
#undef sprintf
#define sprintf(...) CBAR__BANNED(sprintf)
#undef atoi
#define atoi(x) CBAR__BANNED(atoi)
#undef strtok
#define strtok(x, y) CBAR__BANNED(strtok)
#undef gets
#define gets(x) CBAR__BANNED(gets)

#endif
