/*
 * callbar: which build this is.
 *
 * Both strings are fixed when the binary is built (cmake/version.cmake
 * writes them into the build folder at every build, so a new commit shows
 * without reconfiguring) and live as long as the program.
 */
#ifndef CALLBAR_VERSION_H
#define CALLBAR_VERSION_H

/* The release, as the project() line of CMakeLists.txt says: "0.1.0". */
extern const char cbar_version[];

/* The git commit the binary was built from, 12 hex digits, with "-dirty"
 * appended when tracked files differed from it; the packager's
 * -DCBAR_COMMIT=... when the tree has no git; "unknown" when neither says. */
extern const char cbar_commit[];

#endif
