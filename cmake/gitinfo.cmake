# Writes OUT (a .cpp defining the git commit) only when its content changes, so builds stay incremental.
execute_process(COMMAND git -C ${SRC} rev-parse HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(rc EQUAL 0)
  execute_process(COMMAND git -C ${SRC} status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(dirty)
    set(commit "${commit}-dirty")
  endif()
elseif(DEFINED ENV{DTYPEBENCH_GIT_COMMIT})
  # a copy of the tree without .git (the GPU machine): the commit is passed in
  set(commit "$ENV{DTYPEBENCH_GIT_COMMIT}")
else()
  set(commit "unknown")
endif()
set(text "namespace dtypebench { const char* git_commit() { return \"${commit}\"; } }\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
