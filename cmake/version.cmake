# Writes OUT (a C file defining cbar_version and cbar_commit) from VERSION
# and the git commit of SRC.  Run at every build (CMakeLists.txt,
# callbar_version_stamp); configure_file leaves OUT untouched when nothing
# changed, so nothing is recompiled then.
#   cmake -DSRC=tree -DOUT=file.c -DVERSION=x.y.z [-DCOMMIT=sha] -P version.cmake
# COMMIT (from -DCBAR_COMMIT at configure time) names the commit of a tree
# that has no git, as a tarball's packager knows it; git wins when present.
set(commit "")
find_program(GIT git)
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short=12 HEAD
    OUTPUT_VARIABLE commit RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    set(commit "")
  else()
    # Tracked files changed since the commit: say so, the build is not it.
    execute_process(COMMAND ${GIT} -C ${SRC} status --porcelain --untracked-files=no
      OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND NOT changes STREQUAL "")
      string(APPEND commit "-dirty")
    endif()
  endif()
endif()
if(commit STREQUAL "" AND COMMIT)
  set(commit "${COMMIT}")
endif()
if(commit STREQUAL "")
  set(commit "unknown")
endif()
set(CBAR_VERSION_STR "${VERSION}")
set(CBAR_COMMIT_STR "${commit}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.c.in ${OUT} @ONLY)
